"""Shared fixtures: a tiny MAE teacher checkpoint and an unlabeled synthetic LMDB."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from mnsp_mm.apis import load_config
from mnsp_mm import synth

TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'


def build_pretrain_model(cfg_model):
    """Build and initialise an mmpretrain-scope model from its config."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg_model)
    model.init_weights()
    return model


def tiny_model(config: str, teacher_ckpt, **overrides):
    """A tiny LMIM/MNSP config's model with the fixture teacher; ``overrides`` merge into it."""
    cfg = load_config(config)
    cfg.model.target_generator.checkpoint = str(teacher_ckpt)
    cfg.model.update(overrides)
    return build_pretrain_model(cfg.model)


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


def synthetic_batch(seed: int, num: int = 8) -> torch.Tensor:
    """(num, 3, 32, 128) rendered crops, normalised to [-1, 1] as the pretraining pipeline."""
    imgs = [torch.from_numpy(synth.render_sample((seed, i)).image).permute(2, 0, 1)
            for i in range(num)]
    return torch.stack(imgs).float() / 127.5 - 1


def loss_drop(model, inputs, steps: int = 40, lr: float = 1e-3):
    """Train ``model`` on one fixed batch; mean loss of the first 5 and the last 5 steps."""
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    history = []
    for _ in range(steps):
        loss = sum(model.loss(inputs, []).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return sum(history[:5]) / 5, sum(history[-5:]) / 5
