"""tools/train.py and the environment check, run as a user runs them (the demo: test_demo.py)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnsp_mm.apis import load_config
from mnsp_mm import synth
from mnsp_mm.utils import env_check

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py'


def run(*args, cwd=ROOT):
    res = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


@pytest.fixture(scope='module')
def pool(tmp_path_factory):
    root = tmp_path_factory.mktemp('pool')
    synth.render_dataset(root, 48, 0, fmt=('lmdb', ), labeled=False, name='u')
    return root / 'lmdb' / 'u'


def test_env_check_reports_ok():
    assert env_check.problems() == []
    out = run('-m', 'mnsp_mm.utils.env_check')
    assert 'ok: torch' in out and 'mmcv 2.0.1 with ops' in out


def test_train_then_resume(tmp_path, pool):
    common = ['--work-dir', tmp_path, '--cfg-options',
              f"train_dataloader.dataset.sources=['{pool}']", 'train_dataloader.batch_size=4',
              'default_hooks.checkpoint.interval=2']
    run('tools/train.py', TINY_MAE, *common, 'train_cfg.max_iters=2')
    first = torch.load(tmp_path / 'iter_2.pth', map_location='cpu')  # weights_only default
    assert first['meta']['iter'] == 2
    assert any(k.startswith('backbone.layers.') for k in first['state_dict'])
    out = run('tools/train.py', TINY_MAE, *common, 'train_cfg.max_iters=4', '--resume')
    assert 'resumed' in out.lower()
    assert torch.load(tmp_path / 'iter_4.pth', map_location='cpu')['meta']['iter'] == 4


def test_config_scope_is_checked(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("default_scope = 'mmdet'\n")
    with pytest.raises(ValueError, match="default_scope must be one of"):
        load_config(str(bad))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))


def test_amp_needs_a_gpu_here():
    if torch.cuda.is_available():
        pytest.skip('a GPU is present')
    with pytest.raises(RuntimeError, match='--amp needs a CUDA device'):
        load_config(TINY_MAE, amp=True)


def test_paper_config_recipe():
    cfg = load_config('configs/pretrain/mae_text-vit-s_union14m-u.py')
    assert cfg.model.backbone.arch == 'small' and cfg.model.backbone.img_size == (32, 128)
    assert cfg.model.neck.grid == (8, 32) and cfg.model.neck.decoder_depth == 8
    opt = cfg.optim_wrapper
    assert opt.optimizer.betas == (0.9, 0.95) and opt.optimizer.weight_decay == 0.05
    assert opt.optimizer.lr == pytest.approx(1.5e-4 * 1024 / 256)
    assert cfg.train_cfg.max_epochs == 20 and cfg.auto_scale_lr.base_batch_size == 1024
    assert opt.paramwise_cfg.custom_keys['mask_token'].decay_mult == 0


def test_env_check_names_each_problem_in_one_line(monkeypatch):
    real = env_check.version
    fake = {'mmdet': '3.3.0', 'mmpretrain': None}

    def version(pkg):
        if pkg in fake:
            if fake[pkg] is None:
                raise env_check.PackageNotFoundError(pkg)
            return fake[pkg]
        return real(pkg)

    monkeypatch.setattr(env_check, 'version', version)
    real_import = env_check.importlib.import_module

    def import_module(name, *args):
        if name == 'mmcv._ext':
            raise ImportError('libmmcv_ext.so: cannot open shared object file')
        return real_import(name, *args)

    monkeypatch.setattr(env_check.importlib, 'import_module', import_module)
    found = env_check.problems()
    assert any(line.startswith('mmdet 3.3.0 is installed, 3.1.0 is required') for line in found)
    assert any(line.startswith('mmpretrain is not installed') for line in found)
    assert any(line.startswith('mmcv was built without ops') for line in found)
    assert all('\n' not in line for line in found)
