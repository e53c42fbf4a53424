"""Issue #18 item 5: a checkpoint that does not fit its config is never scored."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

from mnsp_mm.apis import load_config
from mnsp_mm.datasets import synth
from mnsp_mm.checkpoint.strict_load import CheckpointMismatchError, check_checkpoint_fits

ROOT = Path(__file__).resolve().parents[1]
TINY_FT = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
DEMO_FT = 'configs/demo/finetune.py'


def _recogniser(config: str):
    import mnsp_mm  # noqa: F401
    from mmocr.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmocr'):
        return MODELS.build(load_config(config).model)


@pytest.fixture(scope='module')
def demo_ckpt(tmp_path_factory):
    """A checkpoint of the demo recogniser (8x8 patches, conv stem, CTC head)."""
    path = tmp_path_factory.mktemp('strict') / 'demo.pth'
    torch.save({'meta': {}, 'state_dict': _recogniser(DEMO_FT).state_dict()}, path)
    return path


def test_a_fitting_checkpoint_passes_a_foreign_one_is_refused(tmp_path, demo_ckpt):
    model = _recogniser(TINY_FT)
    own = tmp_path / 'own.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in model.state_dict().items()}}, own)
    assert not any(check_checkpoint_fits(model, str(own)).values())
    with pytest.raises(CheckpointMismatchError,
                       match=r'demo\.pth does not fit .*: 40 missing keys, first: decoder\.'
                             r'trg_word_emb\.weight; 20 unexpected keys, first: '
                             r'backbone\.patch_embed\.convs\.0\.weight; 4 keys with another '
                             r'shape, first: backbone\.pos_embed \(checkpoint \(1, 65, 96\), '
                             r'model \(1, 257, 96\)\); is this the right config\? \(pass '
                             r'--allow-mismatch'):
        check_checkpoint_fits(model, str(demo_ckpt))
    encoder_only = tmp_path / 'encoder.pth'  # e.g. a pretraining checkpoint: no decoder
    torch.save({'state_dict': {k: v for k, v in model.state_dict().items()
                               if k.startswith('backbone.')}}, encoder_only)
    with pytest.raises(CheckpointMismatchError, match=r': \d+ missing keys, first: decoder\.'):
        check_checkpoint_fits(model, str(encoder_only))
    found = check_checkpoint_fits(model, str(demo_ckpt), allow_mismatch=True)
    assert found['unexpected'] and found['shape'] and found['missing']  # CTC vs attention head


def test_tools_test_refuses_before_evaluating(tmp_path, demo_ckpt):
    synth.render_dataset(tmp_path, 4, 0, name='test')
    cmd = [sys.executable, 'tools/test.py', TINY_FT, str(demo_ckpt), '--work-dir',
           str(tmp_path / 'work'), '--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}']
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0
    assert 'CheckpointMismatchError' in res.stderr and 'is this the right config?' in res.stderr
    assert not (tmp_path / 'work' / 'test_metrics.json').exists()


# ----------------------------------------------------------------------- issue #25
def test_a_legacy_checkpoint_is_checked_and_a_bare_tensor_or_list_refused(tmp_path):
    """Items 2 and 7: a non-zip checkpoint cannot be memory-mapped (read in full instead);
    a ``state_dict`` that is no dict is the one-line error, not an ``AttributeError``."""
    model = _recogniser(TINY_FT)
    legacy = tmp_path / 'legacy.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, legacy,
               _use_new_zipfile_serialization=False)
    assert not any(check_checkpoint_fits(model, str(legacy)).values())
    for bad, kind in ((torch.zeros(3), 'Tensor'), ([torch.zeros(3)], 'list')):
        path = tmp_path / f'{kind}.pth'
        torch.save({'meta': {}, 'state_dict': bad}, path)
        with pytest.raises(CheckpointMismatchError,
                           match=rf'{kind}\.pth does not fit .*: "state_dict" is a {kind}, '
                                 r'not a dict of named weights'):
            check_checkpoint_fits(model, str(path), allow_mismatch=True)
        torch.save(bad, path)  # the weights themselves, no dict around them
        with pytest.raises(CheckpointMismatchError, match=rf': it is a {kind}, not a dict'):
            check_checkpoint_fits(model, str(path))
