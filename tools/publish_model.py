"""Turn a training checkpoint into a release file, as OpenMMLab's ``publish_model.py`` does.

    python tools/publish_model.py work_dirs/x/best.pth maerec_text-vit-s_union14m-l.pth
    # -> maerec_text-vit-s_union14m-l-<first 8 hex digits of its sha256>.pth

Keeps ``state_dict`` (on the CPU) and the plain-data part of ``meta`` (config text, epoch,
iteration, dataset meta, versions); drops the optimizer, schedulers, message hub and RNG
states. What is left is tensors, strings and numbers only, so
``torch.load(file, weights_only=True)`` reads it with nothing imported first (a training
checkpoint needs ``import mnsp_mm`` for mmengine's ``HistoryBuffer``).

The input is read with the project's weights-only loader
(:func:`mnsp_mm.checkpoint.safe_load.load_checkpoint_file`), also when
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is set: a crafted checkpoint is refused, nothing in it
runs, and the tool exits with that message.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
from collections import OrderedDict


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Strip a checkpoint for release and sha-name it')
    p.add_argument('in_file', help='training checkpoint')
    p.add_argument('out_file', help='output name; the sha256 prefix is added before .pth')
    return p.parse_args(argv)


def plain(value):
    """``value`` as JSON-able Python data (numpy / torch scalars -> numbers), or None if not.

    ``.item()`` turns a one-element array or tensor into a number; anything else (arrays,
    RNG states, objects) raises, and the value is left out.
    """
    try:
        return json.loads(json.dumps(value, default=lambda v: v.item()))
    except (TypeError, ValueError, AttributeError, RuntimeError):
        return None


def publish(in_file: str, out_file: str) -> str:
    """Write the release file; returns its final (sha-named) path.

    Raises:
        KeyError: if ``in_file`` has no ``state_dict`` dict.
        RuntimeError: if ``in_file`` pickles anything outside the checkpoint allow-list.
    """
    import torch

    from mnsp_mm.checkpoint.safe_load import load_checkpoint_file
    ckpt = load_checkpoint_file(in_file, map_location='cpu')  # weights only, whatever the env
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('state_dict'), dict):
        what = f'keys: {sorted(map(str, ckpt))}' if isinstance(ckpt, dict) else \
            f'a {type(ckpt).__name__}'
        raise KeyError(f'{in_file}: no "state_dict" dict ({what}); is it a checkpoint '
                       'written by tools/train.py?')
    dropped = sorted(k for k in ckpt if k not in ('state_dict', 'meta'))
    meta = {}
    for key, value in (ckpt.get('meta') or {}).items():
        value = plain(value)
        if value is None:
            dropped.append(f'meta.{key}')
        else:
            meta[key] = value
    state = OrderedDict((k, v.detach().cpu().clone()) for k, v in ckpt['state_dict'].items())
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = stem + '.tmp.pth'
    torch.save({'meta': meta, 'state_dict': state}, tmp)
    with open(tmp, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    final = f'{stem}-{sha[:8]}.pth'
    os.replace(tmp, final)
    print(f'dropped: {", ".join(dropped) or "nothing"}')
    print(f'published {final} ({len(state)} tensors, sha256 {sha})')
    return final


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.in_file):
        raise SystemExit(f'checkpoint not found: {args.in_file}')
    try:
        publish(args.in_file, args.out_file)
    except (RuntimeError, KeyError) as err:  # a refused (crafted) or foreign checkpoint
        raise SystemExit(f'publish_model: {err.args[0] if err.args else err}') from None


if __name__ == '__main__':
    main()
