"""Issue #8 item 5: every algorithm trains under DDP (2 gloo CPU processes through
tools/dist_train.sh) and ends where one process with the same global batch ends.

To compare the two runs exactly, the randomness that legitimately differs between them (the
per-rank RNG streams behind the MAE masks, guidance augmentation and decoder dropout) is
removed: the masks become a function of each sample (:class:`SampleSeededMasking`, which the
test config imports), the guidance view is a plain resize and dropout is 0; everything else
(sampler, init, data, gradient averaging, frozen teacher) is the real code path.
"""
import os
import socket
import subprocess
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from mnsp_mm.apis import build_runner, load_config
from mnsp_mm.models.backbones import text_vit
from mnsp_mm.checkpoint.safe_load import load_checkpoint_file

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'mae': 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    'lmim': 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    'mnsp': 'configs/mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py',
}
ITERS = 2
GLOBAL_BATCH = 8


def _sample_seeded_masking(x, mask_ratio):
    """``random_masking`` with each sample's noise seeded by that sample's pixels."""
    seeds = SampleSeededMasking.seeds
    B, L, _ = x.shape
    noise = torch.stack([torch.rand(L, generator=torch.Generator().manual_seed(s))
                         for s in seeds[:B]]).to(x.device)
    real_rand = torch.rand
    torch.rand = lambda *a, **k: noise  # the one draw random_masking makes
    try:
        return SampleSeededMasking.original(x, mask_ratio)
    finally:
        torch.rand = real_rand


@HOOKS.register_module(force=True)
class SampleSeededMasking(Hook):
    """Test-only: MAE masks that depend on the sample, not on the process's RNG stream."""
    original = None
    seeds = []

    def before_run(self, runner):
        SampleSeededMasking.original = text_vit.random_masking
        text_vit.random_masking = _sample_seeded_masking
        vit = text_vit.TextViT
        self._forward_masked = vit.forward_masked

        def forward_masked(module, x, mask_ratio=None):
            SampleSeededMasking.seeds = [int(v) % (2**31) for v in
                                         (x.double().flatten(1).sum(1) * 1e3).round()]
            return self._forward_masked(module, x, mask_ratio)

        vit.forward_masked = forward_masked

    def after_run(self, runner):
        text_vit.random_masking = SampleSeededMasking.original
        text_vit.TextViT.forward_masked = self._forward_masked


def _config(tmp_path, name, pool, teacher) -> Path:
    """The tiny config with deterministic views, SGD (updates linear in the gradient)."""
    cfg = tmp_path / f'{name}.py'
    pipeline = ''
    if name == 'lmim':  # the guidance view without its random augmentation
        pipeline = (", pipeline=[dict(type='LoadTextImage', channel_order='rgb'),"
                    "dict(type='MultiView', num_views=[1, 1], transforms=["
                    "[dict(type='Resize', scale=(128, 32), keep_ratio=False)],"
                    "[dict(type='Resize', scale=(128, 32), keep_ratio=False)]]),"
                    "dict(type='PackInputs')]")
    lines = [
        f"_base_ = ['{ROOT / CONFIGS[name]}']",
        "custom_imports = dict(imports=['mnsp_mm', 'test_ddp'], allow_failed_imports=False)",
        "custom_hooks = [dict(type='SampleSeededMasking')]",
        f"train_dataloader = dict(batch_size={GLOBAL_BATCH}, "
        f"dataset=dict(sources=['{pool}/lmdb/u']{pipeline}))",
        "optim_wrapper = dict(type='OptimWrapper', _delete_=True, "
        "optimizer=dict(type='SGD', lr=0.5))",
        "param_scheduler = []",
        f"train_cfg = dict(max_iters={ITERS})",
        f"default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={ITERS}))",
    ]
    if name == 'lmim':  # dropout draws differ per rank; switched off like the masks
        lines.append(f"model = dict(target_generator=dict(checkpoint='{teacher}'), "
                     "neck=dict(dropout=0.))")
    if name == 'mnsp':
        lines.append(f"model = dict(target_generator=dict(checkpoint='{teacher}'), "
                     "neck=dict(dropout=0.), nsp_neck=dict(dropout=0.))")
    cfg.write_text('\n'.join(lines) + '\n')
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_train(cfg: Path, work: Path) -> dict:
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(ROOT / 'tests'), os.environ.get('PYTHONPATH', '')]))
    res = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir', str(work),
                          '--cfg-options', f'train_dataloader.batch_size={GLOBAL_BATCH // 2}'],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return load_checkpoint_file(work / f'iter_{ITERS}.pth')['state_dict']


def _single(cfg: Path, work: Path) -> dict:
    runner = build_runner(load_config(str(cfg), work_dir=str(work)))
    start = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    return start, runner.model.state_dict()


@pytest.mark.parametrize('name', ['mae', 'lmim', 'mnsp'])
def test_two_gloo_processes_match_one_process(tmp_path, name, pool, mae_ckpt):
    cfg = _config(tmp_path, name, pool, mae_ckpt)
    ddp = _dist_train(cfg, tmp_path / 'ddp')
    start, single = _single(cfg, tmp_path / 'single')
    assert set(ddp) == set(single)
    for key, want in single.items():
        torch.testing.assert_close(ddp[key], want, rtol=1e-4, atol=1e-5, msg=key)
    # not vacuous: training moved the student, and never the frozen teacher
    assert not torch.equal(start['backbone.layers.0.attn.qkv.weight'],
                           single['backbone.layers.0.attn.qkv.weight'])
    init = load_checkpoint_file(mae_ckpt)['state_dict']
    for key, value in single.items():
        if key.startswith('target_generator.'):
            assert torch.equal(value, init[key[len('target_generator.'):]]), key
