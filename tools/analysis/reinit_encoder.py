"""Put named parts of a pretrained encoder back to their random initialisation.

    python tools/analysis/reinit_encoder.py configs/demo/finetune.py PRETRAIN.pth \\
        --parts stem --out work_dirs/reinit/mae_stem.pth
    python tools/train.py configs/demo/finetune.py \\
        --cfg-options model.backbone.pretrained=work_dirs/reinit/mae_stem.pth

Parts: ``stem``, ``stem_norms``, ``pos``, ``norms``, ``blocks``, ``block<i>``, ``last<k>``,
``writes*<a>`` (every weight kept, the blocks' writes into the stream scaled by ``a``)
(``mnsp_mm/analysis/reinit.py``). The output loads as ``model.backbone.pretrained``.
"""
import argparse
import logging
import sys
from pathlib import Path

from mnsp_mm.analysis.reinit import save_reinit


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='re-initialise parts of a pretrained encoder')
    p.add_argument('config', help='a config whose model.backbone the checkpoint fits')
    p.add_argument('checkpoint', help='the pretrained checkpoint')
    p.add_argument('--parts', nargs='+', required=True,
                   help="stem, pos, norms, last2, ... or writes*0.125 (the blocks' writes scaled)")
    p.add_argument('--seed', type=int, default=0, help='seed of the random initialisation')
    p.add_argument('--out', required=True, help='where to write the new checkpoint')
    return p.parse_args(argv)


def main(argv=None):
    from mmengine.logging import MMLogger

    from mnsp_mm.apis import load_config
    args = parse_args(argv)
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    try:
        if not Path(args.checkpoint).is_file():
            raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
        out = save_reinit(load_config(args.config), args.checkpoint, args.parts, args.out,
                          args.seed)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    print(f'wrote {out} ({args.checkpoint} with {", ".join(args.parts)} re-initialised)')


if __name__ == '__main__':
    sys.exit(main())
