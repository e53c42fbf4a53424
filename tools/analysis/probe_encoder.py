"""Label-free diagnostics of a frozen TextViT encoder: linear probes and a collapse check.

    # a pretrained encoder, and the random-init reference row (no CHECKPOINT)
    python tools/analysis/probe_encoder.py configs/demo/finetune.py work_dirs/demo/mnsp.pth \\
        --train data/synth/textrecog_train.json --test data/synth/textrecog_test.json \\
        --num-train 2000 --num-test 1000 --out work_dirs/probe/mnsp.json
    python tools/analysis/probe_encoder.py configs/demo/finetune.py \\
        --train data/synth/textrecog_train.json --test data/synth/textrecog_test.json \\
        --num-train 2000 --num-test 1000 --out work_dirs/probe/random.json

CONFIG gives the backbone and the input normalisation; CHECKPOINT is any checkpoint with the
encoder (ours or official); without it the encoder keeps its random initialisation (seeded).
Ridge probes read the first character (36 classes a-z0-9) and the word length (2..12) from
the column features of the first ``--num-train`` crops of ``--train`` and are scored on the
first ``--num-test`` of ``--test``; see ``mnsp_mm/analysis/encoder_probe.py`` and
docs/analysis.md.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from mnsp_mm.analysis.encoder_probe import probe_encoder


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='linear probes and collapse statistics of a '
                                'frozen TextViT encoder')
    p.add_argument('config', help='pretraining or fine-tuning config (gives the backbone)')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='checkpoint with the encoder; omitted: random initialisation')
    p.add_argument('--train', required=True, help='MMOCR textrecog json fitting the probes')
    p.add_argument('--test', required=True, help='MMOCR textrecog json scoring the probes')
    p.add_argument('--num-train', type=int, default=2000, help='first N train crops (2000)')
    p.add_argument('--num-test', type=int, default=1000, help='first N test crops (1000)')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the random initialisation and of the bootstrap (0)')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--out', help='write the result as JSON here')
    args = p.parse_args(argv)
    if min(args.num_train, args.num_test, args.batch_size) < 1:
        p.error('--num-train, --num-test and --batch-size must be >= 1')
    return args


def run(args) -> dict:
    """Probe the encoder, print a table and write the JSON; returns the result."""
    from mmengine.logging import MMLogger

    from mnsp_mm.apis import load_config

    # A random init would otherwise log mmengine's init report, one entry per parameter.
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    for flag, path in (('--train', args.train), ('--test', args.test)):
        if not Path(path).is_file():
            raise FileNotFoundError(f'{flag} annotation not found: {path}')
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    result = probe_encoder(load_config(args.config), args.checkpoint, args.train, args.test,
                           args.num_train, args.num_test, args.seed, args.batch_size)
    result = dict(config=str(args.config), checkpoint=args.checkpoint, train=str(args.train),
                  test=str(args.test), **result)
    print(f'encoder: {args.checkpoint or "random init"}; probes fit on {result["num_train"]} '
          f'crops, scored on {result["num_test"]}')
    print(f'{"probe":<11} {"accuracy":>9} {"95% interval":>15} {"chance":>7} {"n":>6}')
    for name in ('first_char', 'length'):
        r = result[name]
        interval = f'[{r["low"]:.3f}, {r["high"]:.3f}]'
        print(f'{name:<11} {r["value"]:>9.3f} {interval:>15} {r["chance"]:>7.3f} {r["n"]:>6}')
    c = result['collapse']
    print(f'collapse: [cls] std {c["cls_std"]:.4f}, patch std {c["patch_std"]:.4f} (within a '
          f'crop {c["patch_std_within"]:.4f}), [cls] effective rank '
          f'{c["cls_effective_rank"]:.1f}, image share of the targets '
          f'{c["target_image_share"]:.2f}, over {c["num_images"]} images')
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2), encoding='utf-8')
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
