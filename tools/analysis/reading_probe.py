"""Frozen-encoder reading probe: a CTC head trained on a frozen encoder's tokens.

    # a pretrained encoder, and the random-init reference (no CHECKPOINT)
    python tools/analysis/reading_probe.py configs/demo/finetune.py work_dirs/demo/mae.pth \\
        --train DATA/textrecog_train.json --num-train 10000 \\
        --test DATA/textrecog_val_regular.json DATA/textrecog_val_default.json \\
        --exclude-vocab DATA/textrecog_train.json --out work_dirs/probe/mae.json

CONFIG gives the backbone and the input normalisation; CHECKPOINT is any checkpoint with the
encoder (ours or official). The heads (``linear``: a linear map per column; ``block``: one
transformer layer) train on the first ``--num-train`` crops of ``--train`` with a fixed
recipe and read the first ``--num-test`` crops of each ``--test`` set; with
``--exclude-vocab`` only crops whose label is not a label of that annotation are scored
(out-of-vocabulary). See ``mnsp_mm/analysis/reading_probe.py`` and docs/analysis.md.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from mnsp_mm.analysis.reading_probe import HEADS, reading_probe
from mnsp_mm.evaluation.reading import training_labels


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='frozen-encoder reading probe (CTC heads)')
    p.add_argument('config', help='pretraining or fine-tuning config (gives the backbone)')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='checkpoint with the encoder; omitted: random initialisation')
    p.add_argument('--train', required=True, help='MMOCR textrecog json training the heads')
    p.add_argument('--test', required=True, nargs='+', help='textrecog jsons read by the heads')
    p.add_argument('--num-train', type=int, default=10000, help='first N train crops (10000)')
    p.add_argument('--num-test', type=int, default=300, help='first N crops per test set (300)')
    p.add_argument('--exclude-vocab', help='score only crops whose label is not in this json')
    p.add_argument('--heads', nargs='+', choices=sorted(HEADS), default=['linear', 'block'])
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the random encoder, the heads and the bootstrap (0)')
    p.add_argument('--out', help='write the result as JSON here')
    args = p.parse_args(argv)
    if min(args.num_train, args.num_test) < 1:
        p.error('--num-train and --num-test must be >= 1')
    return args


def run(args) -> dict:
    from mmengine.logging import MMLogger

    from mnsp_mm.apis import load_config
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    for flag, path in [('--train', args.train), ('--exclude-vocab', args.exclude_vocab)] + [
            ('--test', t) for t in args.test]:
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f'{flag} annotation not found: {path}')
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    tests = {Path(t).stem.replace('textrecog_', ''): t for t in args.test}
    result = reading_probe(load_config(args.config), args.checkpoint, args.train,
                           args.num_train, tests, args.num_test,
                           set(training_labels(args.exclude_vocab)) if args.exclude_vocab
                           else None,
                           args.heads, args.seed)
    result = dict(config=str(args.config), checkpoint=args.checkpoint, **result)
    print(f'encoder: {args.checkpoint or "random init"}; heads trained on '
          f'{result["num_train"]} crops')
    for kind in args.heads:
        r = result[kind]
        sets = ', '.join(f'{n} {100 * s["value"]:.1f}' for n, s in r['sets'].items()
                         if s['value'] is not None)
        print(f'{kind:<7} WAICS {100 * r["value"]:5.1f} [{100 * r["low"]:.1f}, '
              f'{100 * r["high"]:.1f}] over {r["n"]} crops ({sets}); CTC loss '
              f'{r["loss_first"]:.2f} -> {r["loss_last"]:.2f}')
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1), encoding='utf-8')
        print(f'wrote {args.out}')
    return result


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    sys.exit(main())
