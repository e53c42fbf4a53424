"""Issue #18 item 2: a kill during a checkpoint save never costs the run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mnsp_mm  # noqa: F401  (registers AtomicCheckpointHook)
from mnsp_mm.apis import load_config
from mnsp_mm.apis.prepare import prepare_config
from mnsp_mm.engine import find_resumable_checkpoint, why_unloadable

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'


class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss=((torch.stack(inputs) * self.w).sum() - 1)**2)


def _toy_runner(work_dir, iters=3, max_keep=1, resume=False):
    return Runner(
        model=_Toy(), work_dir=str(work_dir), default_scope='mmpretrain',
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 8, batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=iters), resume=resume,
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1,
                                           by_epoch=False, max_keep_ckpts=max_keep)))


def _pointer(work_dir) -> str:
    return Path(work_dir, 'last_checkpoint').read_text()


def test_every_run_gets_the_atomic_hook():
    cfg = load_config(TINY_MAE)
    prepare_config(cfg)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'


def test_rotation_keeps_only_complete_named_checkpoints(tmp_path):
    _toy_runner(tmp_path).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == ['iter_3.pth']
    assert _pointer(tmp_path) == str(tmp_path / 'iter_3.pth')
    assert why_unloadable(str(tmp_path / 'iter_3.pth')) is None


def test_a_failed_write_leaves_the_previous_checkpoint_and_pointer(tmp_path, monkeypatch):
    runner = _toy_runner(tmp_path, iters=2)
    runner.train()
    before = (tmp_path / 'iter_2.pth').read_bytes()
    from mmengine.fileio.backends import LocalBackend

    def dies_half_way(self, obj, filepath):  # the process "dies" in the middle of the write
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalBackend, 'put', dies_half_way)
    resumed = _toy_runner(tmp_path, iters=4, resume=True)
    with pytest.raises(KeyboardInterrupt):
        resumed.train()
    assert (tmp_path / 'iter_2.pth').read_bytes() == before  # rotation waited for the new one
    assert _pointer(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert (tmp_path / 'iter_3.pth.part').is_file() and not (tmp_path / 'iter_3.pth').exists()
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    monkeypatch.undo()
    _toy_runner(tmp_path, iters=4, resume=True).train()
    assert not list(tmp_path.glob('*.part'))  # the leftover is cleaned up at start


def test_resume_skips_broken_checkpoints_saying_why(tmp_path, monkeypatch):
    from mnsp_mm.engine import checkpoint
    said = []
    monkeypatch.setattr(checkpoint, 'print_log', lambda msg, **kwargs: said.append(msg))
    _toy_runner(tmp_path, iters=3, max_keep=3).train()
    good = tmp_path / 'iter_2.pth'
    data = (tmp_path / 'iter_3.pth').read_bytes()
    (tmp_path / 'iter_3.pth').write_bytes(data[:len(data) // 2])  # truncated, as after a kill
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    assert said[0].startswith('resume: skipped') and 'iter_3.pth' in said[0]
    assert 'continuing from' in said[1] and len(said) == 2
    # last_checkpoint empty, or naming a file that rotation deleted
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_9.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    assert 'iter_9.pth (FileNotFoundError: checkpoint not found' in said[-3]
    for p in tmp_path.glob('iter_*.pth'):
        p.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='none of the 4 checkpoint'):
        find_resumable_checkpoint(str(tmp_path))
    assert find_resumable_checkpoint(str(tmp_path / 'fresh')) is None


def _losses(work_dir: Path) -> dict:
    """``{run dir: {iter: loss}}`` from the runner's scalars.json files."""
    runs = {}
    for f in sorted(work_dir.glob('*/vis_data/scalars.json')):
        rows = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        runs[f.parts[-3]] = {r['step']: r['loss'] for r in rows if 'loss' in r}
    return runs


KILLS = 2
ITERS = 6


def test_kills_during_saves_then_resume_repeat_the_uninterrupted_losses(tmp_path, pool):
    """Kill a run while a checkpoint is half written (slow disk), resume; twice over.

    ``max_keep_ckpts=1``, a checkpoint every iteration: mmengine's own hook would have deleted
    the only complete checkpoint before writing the new one.
    """
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(
        f"_base_ = ['{ROOT / TINY_MAE}']\n"
        "custom_imports = dict(imports=['mnsp_mm', 'slow_disk'], allow_failed_imports=False)\n"
        f"train_dataloader = dict(batch_size=4, dataset=dict(sources=['{pool}/lmdb/u']))\n"
        "default_hooks = dict(logger=dict(interval=1), "
        "checkpoint=dict(interval=1, max_keep_ckpts=1))\n"
        "log_processor = dict(window_size=1)\n"
        f"train_cfg = dict(max_iters={ITERS})\n")
    # a 1 s write (a paper-size checkpoint takes ~1.5 s): the kill lands in it even when a
    # busy machine delays this test's polling
    env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{ROOT / "tests"}',
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', SLOW_DISK_SECONDS='1.0')
    train = [sys.executable, 'tools/train.py', str(cfg)]
    ref, crash = tmp_path / 'ref', tmp_path / 'crash'
    reference = subprocess.Popen(train + ['--work-dir', str(ref), '--cfg-options',
                                          'custom_imports.imports=[mnsp_mm]'],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
    for kill in range(KILLS):
        victim = subprocess.Popen(train + ['--work-dir', str(crash)] + ['--resume'] * (kill > 0),
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        seen, deadline = set(), time.time() + 120
        while len(seen) < 2:  # one save completes, the next is killed half-way
            assert victim.poll() is None, victim.stderr.read().decode()[-3000:]
            assert time.time() < deadline, 'the victim never saved twice'
            if crash.is_dir():
                seen |= {n for n in os.listdir(crash) if n.endswith('.pth.part')}
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert list(crash.glob('*.pth.part')), 'the kill did not land in a save'
        assert find_resumable_checkpoint(str(crash)) is not None
    assert reference.wait() == 0, reference.stderr.read().decode()[-3000:]
    res = subprocess.run(train + ['--work-dir', str(crash), '--resume'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    want = next(iter(_losses(ref).values()))
    runs = list(_losses(crash).values())
    assert len(want) == ITERS and len(runs) == KILLS + 1
    assert max(runs[-1]) == ITERS and min(runs[-1]) == KILLS + 1
    for run in runs:
        for it, loss in run.items():
            assert loss == pytest.approx(want[it], rel=1e-5, abs=1e-6), (it, runs, want)


def test_resume_from_a_legacy_checkpoint(tmp_path):
    """Issue #25 item 2: a non-zip checkpoint cannot be memory-mapped; ``--resume`` reads it."""
    _toy_runner(tmp_path, iters=2, max_keep=2).train()
    for name in ('iter_1.pth', 'iter_2.pth'):
        path = tmp_path / name
        torch.save(torch.load(path, weights_only=False), path,
                   _use_new_zipfile_serialization=False)
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    resumed = _toy_runner(tmp_path, iters=3, resume=True)
    resumed.train()
    assert resumed.iter == 3


def test_kill_with_workers_and_lmim_then_resume_repeats_the_losses(tmp_path, pool, mae_ckpt):
    """Issue #25 item 10: SIGKILL at a random moment of an LMIM run whose data comes from two
    dataloader workers (guidance augmentation in the workers, masks in the main process);
    ``--resume`` continues with the uninterrupted run's losses."""
    import random
    cfg = tmp_path / 'tiny_lmim.py'
    cfg.write_text(
        f"_base_ = ['{ROOT / 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py'}']\n"
        f"model = dict(target_generator=dict(checkpoint='{mae_ckpt}'))\n"
        f"train_dataloader = dict(batch_size=4, num_workers=2, persistent_workers=True, "
        f"dataset=dict(sources=['{pool}/lmdb/u']))\n"
        "default_hooks = dict(logger=dict(interval=1), "
        "checkpoint=dict(interval=2, max_keep_ckpts=1))\n"
        "log_processor = dict(window_size=1)\n"
        "train_cfg = dict(max_iters=6)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    train = [sys.executable, 'tools/train.py', str(cfg)]
    ref, crash = tmp_path / 'ref', tmp_path / 'crash'
    reference = subprocess.Popen(train + ['--work-dir', str(ref)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    victim = subprocess.Popen(train + ['--work-dir', str(crash)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 400
    while not (crash / 'last_checkpoint').is_file():  # the first checkpoint (iteration 2)
        assert victim.poll() is None, victim.stderr.read().decode()[-3000:]
        assert time.time() < deadline, 'the victim never saved'
        time.sleep(0.05)
    time.sleep(random.uniform(0, 0.5))  # somewhere in iterations 3-4
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert reference.wait(timeout=400) == 0, reference.stderr.read().decode()[-3000:]
    res = subprocess.run(train + ['--work-dir', str(crash), '--resume'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=400)
    assert res.returncode == 0, res.stderr[-3000:]
    want = next(iter(_losses(ref).values()))
    runs = list(_losses(crash).values())
    assert len(want) == 6 and len(runs) == 2 and max(runs[-1]) == 6
    assert min(runs[-1]) <= 5  # the resumed part redid at least one iteration
    for run in runs:
        for it, loss in run.items():
            assert loss == pytest.approx(want[it], rel=1e-5, abs=1e-6), (it, runs, want)
