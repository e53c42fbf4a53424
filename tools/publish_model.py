"""Turn a training checkpoint into a release file, as OpenMMLab's ``publish_model.py`` does.

    python tools/publish_model.py work_dirs/x/best.pth maerec-s_union14m-l.pth
    # -> maerec-s_union14m-l-<first 8 hex digits of its sha256>.pth

Keeps ``state_dict`` (on the CPU) and the plain-data part of ``meta`` (config text, epoch,
iteration, dataset meta, versions); drops the optimizer, schedulers, message hub and RNG
states. What is left is tensors, strings and numbers only, so
``torch.load(file, weights_only=True)`` reads it with nothing imported first (a training
checkpoint needs ``import mnsp_mm`` for mmengine's ``HistoryBuffer``).
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
        KeyError: if ``in_file`` has no ``state_dict``.
    """
    import torch

    import mnsp_mm  # noqa: F401  (the allow-list that reads training checkpoints)
    ckpt = torch.load(in_file, map_location='cpu')
    if 'state_dict' not in ckpt:
        raise KeyError(f'{in_file}: no "state_dict" (keys: {sorted(ckpt)}); is it a checkpoint '
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
    publish(args.in_file, args.out_file)


if __name__ == '__main__':
    main()
