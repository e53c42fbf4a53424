"""Evaluate a checkpoint with an mnsp_mm config (usually a fine-tuning config, mmocr scope).

    python tools/test.py configs/finetune/CONFIG.py work_dirs/x/best.pth
    bash tools/dist_test.sh CONFIG CKPT 8

The metrics are also written as JSON (``--out``, default ``<work_dir>/test_metrics.json``),
which ``tools/analysis/results_table.py`` reads. A checkpoint whose weights do not fit the
config (missing, unexpected or differently shaped keys) is refused before anything is
evaluated, unless ``--allow-mismatch`` is given.
"""
import argparse
import json
import os
import os.path as osp

from mnsp_mm.apis import add_runner_args, build_runner, load_config, parse_runner_args
from mnsp_mm.utils.strict_load import check_checkpoint_fits


def parse_args():
    p = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', help='metrics JSON (default <work_dir>/test_metrics.json)')
    p.add_argument('--allow-mismatch', action='store_true',
                   help='evaluate even if checkpoint keys or shapes do not fit the config')
    add_runner_args(p)
    return parse_runner_args(p)


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg, loaders=('test', ))
    check_checkpoint_fits(runner.model, args.checkpoint, args.allow_mismatch)
    metrics = runner.test()
    if runner.rank == 0:
        out = args.out or osp.join(cfg.work_dir, 'test_metrics.json')
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump({'config': args.config, 'checkpoint': args.checkpoint,
                       'metrics': {k: float(v) for k, v in metrics.items()}}, f, indent=2)
        print(f'metrics written to {out}')


if __name__ == '__main__':
    main()
