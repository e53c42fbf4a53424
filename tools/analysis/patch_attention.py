"""Glyph share and distance of the patch queries' attention, per encoder, paired on one crop set.

    python tools/analysis/patch_attention.py configs/demo/mae_pretrain.py \\
        --encoder random=random mnsp=work_dirs/regime/pretrain_mnsp/iter_250.pth \\
                  mim=work_dirs/regime/pretrain_mnsp_mim_only/iter_250.pth \\
        --crops work_dirs/regime/data/finetune/textrecog_val_default.json --num 300 \\
        --reference random --out attention.json

Every encoder is read with the one config's backbone (the demo's methods share it); ``random``
as a checkpoint is the random initialisation. Prints, for the last layer and for the mean
over the layers, the glyph excess (share of attention on glyph pixels minus a uniform row's)
and the attention distance over a uniform row's, each with a 95% bootstrap interval over
the crops and, against ``--reference``, a paired one (``mnsp_mm/analysis/patch_attention.py``).
"""
import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere

from mnsp_mm.analysis.patch_attention import encoder_patch_attention, summarise  # noqa: E402


def _encoders(specs):
    out = {}
    for spec in specs:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            raise SystemExit(f'--encoder {spec!r}: expected NAME=CHECKPOINT (or NAME=random)')
        if path != 'random' and not Path(path).is_file():
            raise SystemExit(f'--encoder {name}: checkpoint not found: {path}')
        if name in out:
            raise SystemExit(f'--encoder {name}: named twice')
        out[name] = None if path == 'random' else path
    return out


def lines(summary: dict, reference: str = None) -> list:
    def cell(r):
        text = f'{r["value"]:+.3f} [{r["low"]:+.3f}, {r["high"]:+.3f}]'
        if 'diff' in r:
            text += f' ({r["diff"]:+.3f} [{r["diff_low"]:+.3f}, {r["diff_high"]:+.3f}])'
        return text
    minus = f' (minus {reference}, paired)' if reference else ''
    out = [f'| encoder | glyph excess, last layer{minus} | glyph excess, mean of layers | '
           f'distance / uniform, last layer | distance / uniform, mean of layers |',
           '|---|---|---|---|---|']
    for name, s in summary.items():
        out.append(f'| {name} | {cell(s["last"]["glyph_excess"])} | '
                   f'{cell(s["mean"]["glyph_excess"])} | {cell(s["last"]["distance_ratio"])} | '
                   f'{cell(s["mean"]["distance_ratio"])} |')
    return out


def main(argv=None):
    from mmengine.logging import MMLogger

    from mnsp_mm.apis import load_config
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a config with model.backbone (every encoder is read with it)')
    p.add_argument('--encoder', nargs='+', required=True, metavar='NAME=CKPT',
                   help='encoders to read; NAME=random for the random initialisation')
    p.add_argument('--crops', required=True, help='a textrecog json with glyph masks')
    p.add_argument('--num', type=int, default=300, help='crops (300)')
    p.add_argument('--reference', help='the encoder every other one is paired with')
    p.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    p.add_argument('--out', help='also write the per-crop values and the summary as JSON here')
    args = p.parse_args(argv)
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    encoders = _encoders(args.encoder)
    if args.reference and args.reference not in encoders:
        raise SystemExit(f'--reference {args.reference}: not one of --encoder '
                         f'({", ".join(encoders)})')
    if not Path(args.crops).exists():
        raise SystemExit(f'--crops not found: {args.crops}')
    cfg = load_config(args.config)
    per_crop = {name: encoder_patch_attention(cfg, ckpt, args.crops, args.num, args.seed)
                for name, ckpt in encoders.items()}
    summary = summarise(per_crop, args.reference)
    print('\n'.join(lines(summary, args.reference)))
    if args.out:
        Path(args.out).write_text(json.dumps(dict(summary=summary, per_crop=per_crop,
                                                  crops=args.crops, num=args.num)))


if __name__ == '__main__':
    main()
