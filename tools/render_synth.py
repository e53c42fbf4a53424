"""Render synthetic scene-text crops (the project's built-in default data).

    # MMOCR json: OUT/textrecog_train.json + OUT/imgs/train/000000.png ...
    python tools/render_synth.py --out data/synth --num 5000 --seed 0

    # both formats (LMDB in OUT/lmdb/train), glyph masks, one distortion category
    python tools/render_synth.py --out data/synth_curved --num 500 --seed 1 \\
        --format both --masks --profile curved

    # an unlabeled LMDB for pretraining, on 2 processes (same bytes as with 1)
    python tools/render_synth.py --out data/synth_u --num 20000 --seed 2 --format lmdb \\
        --unlabeled --workers 2

Sample i depends only on (--seed, i) and the profile, so reruns give identical files.
"""
import argparse
import time
from dataclasses import replace

from tqdm import tqdm

from mnsp_mm import synth

def parse_args(presets):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', required=True, help='output directory')
    p.add_argument('--num', type=int, required=True, help='number of crops')
    p.add_argument('--seed', type=int, default=0, help='non-negative seed (default 0)')
    p.add_argument('--format', choices=['json', 'lmdb', 'both'], default='json',
                   help='MMOCR textrecog json + png files, LMDB (OUT/lmdb/NAME), or both')
    p.add_argument('--unlabeled', action='store_true',
                   help='write no labels (LMDB without label- keys, json with empty instances)')
    p.add_argument('--masks', action='store_true', help='also write the glyph masks')
    p.add_argument('--height', type=int, default=32, help='crop height (default 32)')
    p.add_argument('--width', type=int, default=128, help='crop width (default 128)')
    p.add_argument('--profile', choices=presets, default='default',
                   help='distortion preset (default: default, a mixture)')
    p.add_argument('--min-len', type=int, help="shortest text (default: the profile's)")
    p.add_argument('--max-len', type=int, help="longest text (default: the profile's)")
    p.add_argument('--text-kinds', type=synth.parse_text_kinds, metavar='KIND=W,...',
                   help="label mix, e.g. word=0.85,digits=0.15 (default: the profile's; "
                        f"kinds: {', '.join(synth.TEXT_KINDS)})")
    p.add_argument('--lowercase', action='store_true',
                   help='lower-case the drawn text and so every label')
    p.add_argument('--fold-labels', action='store_true',
                   help='mixed case in the image, lower-case labels (the 36-symbol alphabet '
                        'benchmarks score on)')
    p.add_argument('--vocab', choices=synth.VOCAB_SPLITS, default='train',
                   help='vocabulary split of the words: train (default), test (held-out '
                        'words, for out-of-vocabulary test sets) or all')
    p.add_argument('--font-split', choices=synth.FONT_SPLITS, default=None,
                   help="font split: train, heldout (fonts no training crop uses) or all "
                        "(default: the profile's)")
    p.add_argument('--all-fonts', action='store_true',
                   help="every font of the split instead of the profile's font list")
    p.add_argument('--name', default='train', help='split name in the file names (train)')
    p.add_argument('--image-ext', choices=['png', 'jpg'], default='png',
                   help='image encoding (masks are always png)')
    p.add_argument('--workers', type=int, default=1, help='rendering processes (default 1)')
    args = p.parse_args()
    if args.num < 1 or args.seed < 0:
        p.error('--num must be >= 1 and --seed >= 0')
    return args


def main():
    args = parse_args(sorted(synth.PRESETS))
    cfg = synth.preset(args.profile)
    overrides = dict(min_len=args.min_len, max_len=args.max_len, text_kinds=args.text_kinds)
    overrides.update(font_split=args.font_split, fonts=() if args.all_fonts else None)
    cfg = replace(cfg, height=args.height, width=args.width, lowercase=args.lowercase,
                  fold_labels=args.fold_labels, vocab=args.vocab,
                  **{k: v for k, v in overrides.items() if v is not None})
    fmt = ('json', 'lmdb') if args.format == 'both' else (args.format,)
    start = time.perf_counter()
    samples = tqdm(synth.iter_samples(args.num, args.seed, cfg, args.workers), total=args.num,
                   unit='crop', disable=args.num < 1000)
    paths = synth.write_dataset(args.out, samples, fmt, labeled=not args.unlabeled,
                                masks=args.masks, name=args.name,
                                image_ext=f'.{args.image_ext}')
    seconds = time.perf_counter() - start
    print(f"wrote {args.num} {args.profile} crops {cfg.height}x{cfg.width} (seed {args.seed}"
          f"{', masks' if args.masks else ''}{', unlabeled' if args.unlabeled else ''}) to "
          f"{', '.join(str(p) for p in paths.values())} in {seconds:.1f}s "
          f"({args.num / seconds:.0f} crops/s)")


if __name__ == '__main__':
    main()
