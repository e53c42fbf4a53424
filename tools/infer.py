"""Read text crops with a fine-tuned recogniser (MMOCR's ``TextRecInferencer``).

    python tools/infer.py CONFIG CHECKPOINT word.png
    python tools/infer.py CONFIG CHECKPOINT crops/ more.jpg data/x_lmdb --out preds.tsv
    python tools/infer.py CONFIG CHECKPOINT data/synth/pretrain --out-dir results --save-vis

Inputs are image files and whatever a pretraining dataset reads from a path, by the same
rule (:func:`mnsp_mm.datasets.unlabeled.iter_path_samples`): an LMDB (a folder holding
``data.mdb`` with ``num-samples`` and ``image-%09d`` keys; a ``label-%09d`` next to an image
is reported as ``gt``), an image folder (searched recursively, sorted), a folder without
images holding LMDBs below it (e.g. ``tools/render_synth.py --format lmdb`` output), an image
list (one path a line) or an MMOCR JSON annotation file.

stdout carries the results only, one line per crop: ``<input>\t<text>\t<score>`` (score =
mean character confidence; ``-`` for an empty reading); every log line goes to stderr.
``--out FILE`` writes the same lines to FILE (JSON lines when it ends in ``.jsonl``). With
``--out-dir``: ``predictions.jsonl`` (one JSON object per crop) and, with ``--save-vis``,
each crop drawn with its prediction under ``vis/`` (LMDB crops numbered in reading order,
from 0). Errors (missing or empty inputs, a config or checkpoint that does not load) are one
line: ``infer.py: error: ...``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple, Union

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Recognise the text of cropped word images')
    p.add_argument('config', help='fine-tuning config (mmocr scope)')
    p.add_argument('checkpoint', help='checkpoint (ours, or published by tools/publish_model.py)')
    p.add_argument('inputs', nargs='+',
                   help='image files, image folders, LMDBs (or folders of them), image lists, '
                        'MMOCR JSON annotation files')
    p.add_argument('--out', help='also write the result lines here (JSON lines if *.jsonl)')
    p.add_argument('--out-dir', help='write predictions.jsonl (and vis/ with --save-vis) here')
    p.add_argument('--save-vis', action='store_true', help='draw each prediction (--out-dir)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--device', default=None, help='e.g. cpu, cuda:0 (default: cuda if present)')
    args = p.parse_args(argv)
    if args.save_vis and not args.out_dir:
        p.error('--save-vis needs --out-dir')
    return args


def _lmdb_sample(txn, path: str, key: str) -> Tuple[str, np.ndarray, Optional[str]]:
    """``(name, BGR image, label or None)`` of one LMDB sample."""
    import mmcv
    buf = txn.get(key.encode())
    if buf is None:
        raise KeyError(f'{path}: key {key} is missing')
    img = mmcv.imfrombytes(buf, flag='color')
    if img is None:
        raise ValueError(f'{path}: {key} is not a decodable image')
    label = txn.get(key.replace('image-', 'label-', 1).encode())
    return f'{path}:{key}', img, None if label is None else label.decode('utf-8')


def collect_inputs(paths: List[str]) -> List[Tuple[str, Union[str, np.ndarray], Optional[str]]]:
    """Expand the inputs into ``(name, path or image, label)`` triples, by the datasets' rule.

    Raises:
        FileNotFoundError / ValueError / KeyError: naming an input that does not exist, holds
        no image or is broken.
    """
    for path in paths:  # before the (slow) imports
        if not osp.exists(path):
            raise FileNotFoundError(f'input not found: {path}')
    import lmdb

    from mnsp_mm.datasets.unlabeled import IMG_EXTENSIONS, iter_path_samples
    items, envs = [], {}
    try:
        for path in paths:
            if osp.isfile(path) and path.lower().endswith(IMG_EXTENSIONS):
                items.append((path, path, None))
                continue
            for info in iter_path_samples(path):
                if 'img_path' in info:
                    if not osp.isfile(info['img_path']):  # named by a list or a JSON
                        raise FileNotFoundError(f'{path}: image not found: {info["img_path"]}')
                    items.append((info['img_path'], info['img_path'], None))
                    continue
                where = info['lmdb_path']
                if where not in envs:
                    envs[where] = lmdb.open(where, readonly=True, lock=False,
                                            readahead=False, meminit=False)
                with envs[where].begin() as txn:
                    items.append(_lmdb_sample(txn, where, info['lmdb_key']))
    finally:
        for env in envs.values():
            env.close()
    return items


def _format(record: dict) -> str:
    score = record['score']
    return f'{record["input"]}\t{record["text"]}\t{"-" if score is None else f"{score:.4f}"}'


def run(args, results) -> None:
    from mnsp_mm.utils.moved_configs import moved_config_error
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise (moved_config_error(path, what)
                   or FileNotFoundError(f'{what} not found: {path}'))
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
        print(_format(record), file=results, flush=False)
    results.flush()
    jsonl = [json.dumps(r, ensure_ascii=False) + '\n' for r in records]
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as f:
            f.writelines(jsonl if args.out.endswith('.jsonl')
                         else (_format(r) + '\n' for r in records))
        print(f'{len(records)} predictions written to {args.out}', file=sys.stderr)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'predictions.jsonl'), 'w', encoding='utf-8') as f:
            f.writelines(jsonl)
        print(f'{len(records)} predictions written to '
              f'{osp.join(args.out_dir, "predictions.jsonl")}', file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Results go to the real stdout; anything else that prints (mmengine's logger, registry
    # and checkpoint messages; its handlers bind sys.stdout when they are made) to stderr.
    results, sys.stdout = sys.stdout, sys.stderr
    try:
        run(args, results)
    except (FileNotFoundError, ValueError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f'infer.py: error: {" ".join(str(msg).split())}', file=sys.stderr)
        return 1
    finally:
        sys.stdout = results
    return 0


if __name__ == '__main__':
    sys.exit(main())
