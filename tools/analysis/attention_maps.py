"""Where does the model look? [cls]-token attention maps of a TextViT encoder, per input scale.

    # synthetic crops with glyph masks (tools/render_synth.py --masks), a pretraining run
    python tools/render_synth.py --out data/synth_vis --num 16 --masks --name test
    python tools/analysis/attention_maps.py \\
        configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py work_dirs/demo/iter_60.pth \\
        --data data/synth_vis --out work_dirs/attention --name mae

    # a fine-tuned recogniser, last-but-one layer, two scales
    python tools/analysis/attention_maps.py \\
        configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py \\
        work_dirs/ft/iter_200.pth --data data/synth_vis/textrecog_test.json \\
        --layer -2 --scales 16x64 32x128

CONFIG gives the backbone and the input normalisation (``model.data_preprocessor`` and the
pipeline's channel order); CHECKPOINT is any checkpoint of ours (pretraining or fine-tuning,
``backbone.*`` keys) or an official one. ``--data`` is an MMOCR textrecog json, a directory
holding one (``textrecog_test.json`` preferred), or a directory of images.

Images are resized to the largest scale, normalised, then area-resized to every scale. Writes
to ``--out``: ``attention_<name>.png`` (one row per image: input, then one overlay per scale),
``attention_<name>/NNN_<stem>.png`` (per image: input on top, one overlay per scale below) and
``attention_<name>.json``. When the annotation has ``mask_path`` glyph masks, it reports the
mean text-attention fraction per scale next to its chance level (a uniform map's fraction);
see ``mnsp_mm/analysis/attention.py``.
"""
import argparse
import re
import sys

from mnsp_mm.analysis.attention_maps import run


def parse_scale(text):
    """``'8x32'`` -> ``(8, 32)`` (height x width)."""
    match = re.fullmatch(r'\s*(\d+)\s*[xX]\s*(\d+)\s*', text)
    if not match or 0 in (int(match[1]), int(match[2])):
        raise argparse.ArgumentTypeError(f'scale must look like 32x128 (H x W), got {text!r}')
    return int(match[1]), int(match[2])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='[cls] attention maps of a TextViT encoder and the '
                                'share of attention on text glyphs')
    p.add_argument('config', help='pretraining or fine-tuning config')
    p.add_argument('checkpoint', help='checkpoint with the encoder (ours or official)')
    p.add_argument('--data', required=True,
                   help='MMOCR textrecog json, a directory with one, or a directory of images')
    p.add_argument('--num', type=int, default=16, help='number of images, the first N (16)')
    p.add_argument('--scales', nargs='+', type=parse_scale,
                   default=[(8, 32), (16, 64), (32, 128)], metavar='HxW',
                   help='input sizes to encode at (default: 8x32 16x64 32x128)')
    p.add_argument('--layer', type=int, default=-1, help='transformer layer, -1 = last')
    p.add_argument('--out', default='work_dirs/attention', help='output directory')
    p.add_argument('--name', help='output name (default: <config stem>_<checkpoint stem>)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--alpha', type=float, default=0.5, help='heatmap opacity (0.5)')
    p.add_argument('--cmap', default='jet', help='matplotlib colormap (jet)')
    args = p.parse_args(argv)
    if args.num < 1 or args.batch_size < 1:
        p.error('--num and --batch-size must be >= 1')
    if not 0. <= args.alpha <= 1.:
        p.error('--alpha must be in [0, 1]')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    sys.exit(main())
