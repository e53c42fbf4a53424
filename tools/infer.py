"""Read text crops with a fine-tuned recogniser (MMOCR's ``TextRecInferencer``).

    python tools/infer.py CONFIG CHECKPOINT word.png
    python tools/infer.py CONFIG CHECKPOINT crops/ more.jpg data/x_lmdb --out-dir results --save-vis

Inputs may be image files, folders (their images, sorted) and LMDBs (a folder holding
``data.mdb`` with MMOCR's / Union14M's ``num-samples`` and ``image-%09d`` keys; a
``label-%09d`` next to an image is reported as ``gt``). One line per crop goes to stdout:
``<input>\\t<text>\\t<score>`` (score = mean character confidence; ``-`` and ``null`` for an
empty reading). With ``--out-dir``:
``predictions.jsonl`` (one JSON object per crop) and, with ``--save-vis``, each crop drawn
with its prediction under ``vis/`` (LMDB crops are numbered in reading order, from 0).
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Recognise the text of cropped word images')
    p.add_argument('config', help='fine-tuning config (mmocr scope)')
    p.add_argument('checkpoint', help='checkpoint (ours, or published by tools/publish_model.py)')
    p.add_argument('inputs', nargs='+', help='image files, image folders or LMDB folders')
    p.add_argument('--out-dir', help='write predictions.jsonl (and vis/ with --save-vis) here')
    p.add_argument('--save-vis', action='store_true', help='draw each prediction (--out-dir)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--device', default=None, help='e.g. cpu, cuda:0 (default: cuda if present)')
    args = p.parse_args(argv)
    if args.save_vis and not args.out_dir:
        p.error('--save-vis needs --out-dir')
    return args


def _lmdb_samples(path: str) -> Iterator[Tuple[str, np.ndarray, Optional[str]]]:
    """``(name, BGR image, label or None)`` for every sample of an LMDB, in index order."""
    import lmdb
    import mmcv

    from mnsp_mm.datasets.unlabeled import read_lmdb_num_samples
    num = read_lmdb_num_samples(path)
    env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
    with env.begin() as txn:
        for i in range(1, num + 1):
            key = f'image-{i:09d}'
            buf = txn.get(key.encode())
            if buf is None:
                raise KeyError(f'{path}: key {key} is missing (num-samples says {num})')
            img = mmcv.imfrombytes(buf, flag='color')
            if img is None:
                raise ValueError(f'{path}: {key} is not a decodable image')
            label = txn.get(f'label-{i:09d}'.encode())
            yield f'{path}:{key}', img, None if label is None else label.decode('utf-8')
    env.close()


def collect_inputs(paths: List[str]) -> List[Tuple[str, Union[str, np.ndarray], Optional[str]]]:
    """Expand files / folders / LMDBs into ``(name, path or image, label)`` triples.

    Raises:
        FileNotFoundError: naming an input that does not exist or holds no image.
    """
    items = []
    for path in paths:
        if osp.isfile(path):
            items.append((path, path, None))
        elif osp.isfile(osp.join(path, 'data.mdb')):
            items.extend(_lmdb_samples(path))
        elif osp.isdir(path):
            files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTS))
            if not files:
                raise FileNotFoundError(f'{path}: no image ({", ".join(IMAGE_EXTS)}) and no '
                                        'data.mdb in this folder')
            items.extend((osp.join(path, f), osp.join(path, f), None) for f in files)
        else:
            raise FileNotFoundError(f'input not found: {path}')
    return items


def main(argv=None) -> int:
    args = parse_args(argv)
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise SystemExit(f'{what} not found: {path}')
    items = collect_inputs(args.inputs)

    import mnsp_mm  # noqa: F401  (our modules + the checkpoint allow-list)
    from mmocr.apis import TextRecInferencer
    inferencer = TextRecInferencer(model=args.config, weights=args.checkpoint,
                                   device=args.device)
    out = inferencer([x for _, x, _ in items], batch_size=args.batch_size,
                     progress_bar=False, out_dir=args.out_dir or '', save_vis=args.save_vis)
    records = []
    for (name, _, label), pred in zip(items, out['predictions']):
        # an empty reading has no character scores (MMOCR's mean of none is NaN)
        score = round(pred['scores'], 4) if pred['text'] else None
        record = dict(input=name, text=pred['text'], score=score)
        if label is not None:
            record['gt'] = label
        records.append(record)
        print(f'{name}\t{record["text"]}\t{"-" if score is None else f"{score:.4f}"}')
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'predictions.jsonl'), 'w', encoding='utf-8') as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + '\n' for r in records)
        print(f'{len(records)} predictions written to '
              f'{osp.join(args.out_dir, "predictions.jsonl")}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
