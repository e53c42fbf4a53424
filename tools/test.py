"""Evaluate a checkpoint with an mnsp_mm config (usually a fine-tuning config, mmocr scope).

    python tools/test.py configs/maerec/CONFIG.py work_dirs/x/best.pth
    python tools/test.py CONFIG CKPT --save-preds --show-dir vis   # + predictions, drawings
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
from mnsp_mm.checkpoint.strict_load import check_checkpoint_fits


def parse_args():
    p = argparse.ArgumentParser(description='Test (evaluate) a checkpoint')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', help='metrics JSON (default <work_dir>/test_metrics.json)')
    # the options of MMOCR's tools/test.py, with its VisualizationHook doing the drawing
    p.add_argument('--save-preds', action='store_true',
                   help='dump every prediction to <work_dir>/<checkpoint>_predictions.pkl')
    p.add_argument('--show', action='store_true', help='show each image with its prediction')
    p.add_argument('--show-dir',
                   help='save each image drawn with ground truth and prediction under '
                   '<show-dir>/vis_data/vis_image/ (a relative <show-dir> is in the work dir)')
    p.add_argument('--wait-time', type=float, default=2, help='seconds each --show image stays')
    p.add_argument('--allow-mismatch', action='store_true',
                   help='evaluate even if checkpoint keys or shapes do not fit the config')
    add_runner_args(p)
    args = parse_runner_args(p)
    if args.show and args.show_dir:
        p.error('--show and --show-dir cannot be used together (as in MMOCR)')
    return args


def add_test_outputs(cfg, args) -> None:
    """``--save-preds`` / ``--show`` / ``--show-dir``, set the way MMOCR's tools/test.py does."""
    if args.show or args.show_dir:
        vis = cfg.get('default_hooks', {}).get('visualization')
        if vis is None:
            raise SystemExit(f'{args.config}: --show/--show-dir need '
                             "default_hooks.visualization=dict(type='VisualizationHook')")
        vis.update(enable=True, draw_gt=True, draw_pred=True)
        if args.show:
            vis.update(show=True, wait_time=args.wait_time)
        else:
            # MMOCR's tool leaves a relative dir to the current directory
            cfg.visualizer.save_dir = osp.join(cfg.work_dir, args.show_dir)
            cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    if args.save_preds:
        dump = dict(type='DumpPredictions', out_file_path=osp.join(
            cfg.work_dir, f'{osp.basename(args.checkpoint)}_predictions.pkl'))
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, dict) and 'metrics' in evaluator:  # an evaluator config
            evaluator.metrics = list(evaluator.metrics) + [dump]
        elif isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = list(evaluator) + [dump]
        else:
            cfg.test_evaluator = [evaluator, dump]


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    cfg.load_from = args.checkpoint
    add_test_outputs(cfg, args)
    runner = build_runner(cfg)
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
