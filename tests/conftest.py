"""Shared fixtures: a tiny MAE teacher checkpoint and an unlabeled synthetic LMDB."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from mnsp_mm.apis import load_config
from mnsp_mm.datasets import synth

TINY_MAE = 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py'


def build_pretrain_model(cfg_model):
    """Build and initialise an mmpretrain-scope model from its config."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg_model)
    model.init_weights()
    return model


@pytest.fixture(scope='session')
def mae_ckpt(tmp_path_factory):
    """A tiny MAE pretraining checkpoint (the teacher), in our mmengine layout."""
    path = tmp_path_factory.mktemp('mae') / 'mae.pth'
    torch.manual_seed(0)
    torch.save({'state_dict': build_pretrain_model(load_config(TINY_MAE).model).state_dict()},
               path)
    return path


@pytest.fixture(scope='session')
def pool(tmp_path_factory):
    """32 unlabeled synthetic crops in a Union14M-U style LMDB."""
    root = tmp_path_factory.mktemp('pool')
    synth.render_dataset(root, 32, 0, fmt=('lmdb', ), labeled=False, name='u')
    return root
