"""Convert checkpoints between the official (timm-key) layouts and mnsp_mm's.

    # official MAE / MAERec -> an mmengine checkpoint whose keys start with 'backbone.'
    python tools/convert_checkpoint.py official.pth backbone.pth
    # official LMIM: the student ('backbone.') and the decoder ('neck.', GuidedDecoder) ...
    python tools/convert_checkpoint.py lmim.pth lmim_ours.pth --format lmim
    # ... and the frozen teacher ('backbone.', for FrozenTeacher's checkpoint)
    python tools/convert_checkpoint.py lmim.pth teacher.pth --format lmim_teacher
    # the released MAERec-S recogniser: backbone converted, decoder kept -> loads whole
    python tools/convert_checkpoint.py maerec_s_union14m.pth maerec_s_ours.pth

    # ours (a pretraining/fine-tuning checkpoint) -> timm keys in {'model': ...}
    python tools/convert_checkpoint.py work_dirs/x/epoch_20.pth timm.pth --to timm

The output is what ``model.backbone.pretrained=...`` (or an ``init_cfg`` Pretrained with
``prefix='backbone.'``), ``load_from`` and the teacher's ``checkpoint`` take. To continue LMIM
pretraining from an official checkpoint, pass the ``--format lmim`` output as ``load_from``
(student and decoder) and the ``lmim_teacher`` output as ``model.target_generator.checkpoint``.
"""
import argparse
from pathlib import Path

import torch

from mnsp_mm.checkpoint.convert import (OFFICIAL_PREFIXES, convert_official_checkpoint,
                                   textvit_to_timm)
from mnsp_mm.checkpoint.safe_load import load_checkpoint_file


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='input checkpoint (.pth)')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--to', choices=['ours', 'timm'], default='ours',
                   help='ours: official -> mnsp_mm (default); timm: mnsp_mm -> timm keys')
    p.add_argument('--format', default='auto', choices=['auto', *OFFICIAL_PREFIXES],
                   help='official layout of SRC (default: detect)')
    p.add_argument('--prefix', default='backbone.',
                   help="key prefix of the encoder in our checkpoints (default 'backbone.')")
    p.add_argument('--neck-prefix', default='neck.',
                   help="key prefix of the converted LMIM decoder (--format lmim; default 'neck.')")
    return p.parse_args()


def main():
    args = parse_args()
    dst = Path(args.dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if args.to == 'ours':
        sd, unused, fmt = convert_official_checkpoint(args.src, args.format, args.prefix,
                                                     args.neck_prefix)
        out = {'state_dict': sd,
               'meta': {'converted_from': str(args.src), 'official_format': fmt}}
        neck = sum(k.startswith(args.neck_prefix) for k in sd) if fmt == 'lmim' else 0
        note = (f'format {fmt}, {len(sd)} tensors'
                + (f' ({neck} of them the decoder, under {args.neck_prefix!r})' if neck else '')
                + f', {len(unused)} other keys left out')
    else:
        ckpt = load_checkpoint_file(args.src)
        sd = ckpt.get('state_dict', ckpt)
        timm_sd, _ = textvit_to_timm(sd, args.prefix)
        if not timm_sd:
            raise SystemExit(f'{args.src}: no keys under prefix {args.prefix!r}')
        out = {'model': timm_sd}
        note = f'{len(timm_sd)} encoder tensors in timm keys'
    torch.save(out, dst)
    print(f'wrote {dst}: {note}')


if __name__ == '__main__':
    main()
