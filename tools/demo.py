"""`make demo`: self-supervised pretraining for text recognition on the built-in synthetic data.

Current scope (honest): a CPU smoke of the pretraining half of the study. It renders an
unlabeled pool of synthetic text crops, pretrains the tiny MAE (the MAERec baseline recipe at
CPU size, the same code as the paper config) and reports the loss curve and the checkpoint.
Fine-tuning, LMIM / MNSP and the benchmark table join this script as they land.

    python tools/demo.py                     # default profile
    python tools/demo.py --quick             # smoke: fewer crops and iterations
    python tools/demo.py --work-dir DIR      # where data, checkpoints and report.md go

Rerunning skips stages whose outputs are complete.
"""
import argparse
import json
import os.path as osp
import time
from pathlib import Path

PROFILES = {
    'quick': dict(num_unlabeled=256, iters=10, batch=16),
    'default': dict(num_unlabeled=2000, iters=60, batch=32),
}
PRETRAIN_CONFIG = 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py'


def parse_args():
    p = argparse.ArgumentParser(description='mnsp_mm demo (CPU)')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--quick', action='store_true', help='smoke profile (about a minute)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def lmdb_complete(path: Path, num: int) -> bool:
    """True when ``path`` is an LMDB that declares ``num`` samples."""
    if not (path / 'data.mdb').is_file():
        return False
    import lmdb
    env = lmdb.open(str(path), readonly=True, lock=False)
    with env.begin() as txn:
        declared = txn.get(b'num-samples')
    env.close()
    return declared is not None and int(declared) == num


def render_pool(root: Path, num: int, seed: int) -> Path:
    """Stage 1: the unlabeled pretraining pool, as a Union14M-U style LMDB."""
    from mnsp_mm.datasets import synth
    lmdb_dir = root / 'lmdb' / 'pretrain'
    if lmdb_complete(lmdb_dir, num):
        print(f'[render] {num} unlabeled crops already in {lmdb_dir}: skipped')
        return lmdb_dir
    start = time.perf_counter()
    synth.render_dataset(root, num, seed, synth.preset('default'), fmt=('lmdb', ),
                         labeled=False, name='pretrain')
    print(f'[render] {num} unlabeled crops -> {lmdb_dir} in {time.perf_counter() - start:.1f}s')
    return lmdb_dir


def pretrain(work_dir: Path, data: Path, iters: int, batch: int, seed: int) -> dict:
    """Stage 2: tiny MAE pretraining through the same runner as tools/train.py."""
    from mnsp_mm.apis import build_runner, load_config
    ckpt = work_dir / f'iter_{iters}.pth'
    summary_file = work_dir / 'summary.json'
    if ckpt.is_file() and summary_file.is_file():
        print(f'[pretrain] {ckpt} exists: skipped')
        return json.loads(summary_file.read_text())
    cfg = load_config(PRETRAIN_CONFIG, work_dir=str(work_dir), resume='auto', cfg_options={
        'train_dataloader.dataset.sources': [str(data)],
        'train_dataloader.batch_size': batch,
        'train_cfg.max_iters': iters,
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=iters // 4),
            dict(type='CosineAnnealingLR', T_max=iters - iters // 4, by_epoch=False,
                 begin=iters // 4, end=iters)],
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': max(1, iters // 10),
        'randomness.seed': seed,
    })
    start = time.perf_counter()
    runner = build_runner(cfg)
    runner.train()
    losses = [float(v) for v in runner.message_hub.get_scalar('train/loss').data[0]]
    summary = dict(iters=iters, batch=batch, first_loss=losses[0], last_loss=losses[-1],
                   mean_loss_first_5=sum(losses[:5]) / len(losses[:5]),
                   mean_loss_last_5=sum(losses[-5:]) / len(losses[-5:]),
                   seconds=time.perf_counter() - start, checkpoint=str(ckpt))
    summary_file.write_text(json.dumps(summary, indent=2))
    return summary


def main():
    args = parse_args()
    profile = PROFILES['quick' if args.quick else 'default']
    root = Path(args.work_dir)
    t0 = time.perf_counter()
    pool = render_pool(root / 'data', profile['num_unlabeled'], args.seed)
    s = pretrain(root / 'pretrain_mae', pool, profile['iters'], profile['batch'], args.seed)
    print(f"[pretrain] MAE (tiny TextViT) {s['iters']} iters x {s['batch']}: loss "
          f"{s['mean_loss_first_5']:.3f} (first 5) -> {s['mean_loss_last_5']:.3f} (last 5), "
          f"{s['seconds']:.0f}s, checkpoint {s['checkpoint']}")
    report = root / 'report.md'
    report.write_text(
        '# mnsp_mm demo (smoke)\n\n'
        'Pretraining only so far: fine-tuning, LMIM/MNSP and the results table are not in '
        'this demo yet.\n\n'
        f"| stage | result |\n|---|---|\n"
        f"| render | {profile['num_unlabeled']} unlabeled synthetic crops, seed {args.seed} |\n"
        f"| MAE pretraining | {s['iters']} iters x batch {s['batch']}: loss "
        f"{s['mean_loss_first_5']:.3f} -> {s['mean_loss_last_5']:.3f} in {s['seconds']:.0f}s |\n\n"
        f"Reproduce: `python tools/demo.py{' --quick' if args.quick else ''} "
        f"--work-dir {args.work_dir} --seed {args.seed}`\n")
    print(f'[demo] done in {time.perf_counter() - t0:.0f}s; report: {osp.abspath(report)}')


if __name__ == '__main__':
    main()
