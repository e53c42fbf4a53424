"""Weight and activation scales of a frozen TextViT encoder, as docs/study.md reports them.

    python tools/analysis/encoder_scales.py configs/demo/mae_pretrain.py PRETRAIN.pth \\
        --crops work_dirs/regime/data/finetune/textrecog_val_regular.json --out scales.json
    python tools/analysis/encoder_scales.py configs/demo/mae_pretrain.py  # random weights

Prints the residual stream's RMS, what each block writes, the within-crop and content
shares and the attention entropy per block (``mnsp_mm/analysis/encoder_scales.py``); a
checkpoint made by ``tools/analysis/reinit_encoder.py`` (e.g. ``--parts writes*0.25``) is
read like any other.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere

from mnsp_mm.analysis.encoder_scales import encoder_scales  # noqa: E402


def main(argv=None):
    from mmengine.logging import MMLogger

    from mnsp_mm.apis import load_config
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='a config with model.backbone')
    p.add_argument('checkpoint', nargs='?', help='the encoder; omitted: random weights')
    p.add_argument('--crops', required=True, help='a textrecog json whose first crops are used')
    p.add_argument('--num', type=int, default=64, help='crops (64)')
    p.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    p.add_argument('--out', help='also write the result as JSON here')
    args = p.parse_args(argv)
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    for what, path in (('checkpoint', args.checkpoint), ('--crops', args.crops)):
        if path and not Path(path).is_file():
            raise SystemExit(f'{what} not found: {path}')
    stats = encoder_scales(load_config(args.config), args.checkpoint, args.crops, args.num,
                           args.seed)
    rows = [('stream RMS after each block, then the final norm', stats['stream_rms']),
            ('what each block writes (RMS)', stats['write_rms']),
            ('within-crop share: entering block 0, after each block, after the norm',
             stats['within_crop']),
            ('content share: the same points', stats['content']),
            ('attention entropy per block (1 = uniform)', stats['attention_entropy'])]
    for name, values in rows:
        print(f'{name}: ' + ', '.join(f'{v:.2f}' for v in values))
    if args.out:
        Path(args.out).write_text(json.dumps(stats))


if __name__ == '__main__':
    main()
