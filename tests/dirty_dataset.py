"""A deliberately dirty fine-tuning set: every kind of bad entry and image docs/robustness.md
lists, among good rendered crops. Used by ``tests/test_reliability.py`` and, run as a
script, to measure the counts a run reports (the table in docs/robustness.md):

    PYTHONPATH=. python tests/dirty_dataset.py /tmp/dirty [--iters 10] [--workers 2]
"""
import argparse
import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

GOOD = 28  # rendered crops with a usable label

#: What each bad entry should be counted as (``None``: dropped when the dataset is built).
EXPECTED = {
    'missing': 2, 'empty': 1, 'truncated': 1, 'undecodable': 1, 'too_large': 2,
    'label_empty': 2, 'label_not_text': 2, 'label_no_instance': 1, 'label_many_instances': 1,
    'label_too_long': 1, 'label_unknown_chars': 1, 'label_no_img_path': 3,
}


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width x height`` black pixels (a few KB; PIL takes seconds)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + \
            struct.pack('>I', zlib.crc32(kind + data))

    row, z = b'\0' * (1 + (width + 7) // 8), zlib.compressobj(9)
    idat = b''.join(z.compress(row) for _ in range(height)) + z.flush()
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0,
                                                              0, 0, 0))
            + chunk(b'IDAT', idat) + chunk(b'IEND', b''))


def make_dirty_dataset(root: Path) -> Path:
    """Write ``root/textrecog_train.json`` and its images; returns the annotation file."""
    from mnsp_mm import synth
    root = Path(root)
    synth.render_dataset(root, GOOD, 0, name='train')
    ann_path = root / 'textrecog_train.json'
    ann = json.loads(ann_path.read_text())
    good = ann['data_list']
    bad_dir = root / 'bad'
    bad_dir.mkdir(exist_ok=True)
    jpeg = cv2.imencode('.jpg', np.full((32, 100, 3), 128, np.uint8))[1].tobytes()
    files = {'zero.png': b'', 'truncated.jpg': jpeg[:len(jpeg) // 2],
             'text.png': b'not an image', 'bomb.png': png_bomb(20000, 20000),
             'rgbe_bomb.png': b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8192 +X 8192\n'}
    for name, data in files.items():
        (bad_dir / name).write_bytes(data)
    img = good[0]['img_path']

    def entry(path=img, **fields):
        return dict(img_path=path, **fields)

    text = [dict(text='fine')]
    bad = [entry('bad/missing1.png', instances=text), entry('bad/missing2.png', instances=text),
           *(entry(f'bad/{name}', instances=text) for name in files),
           entry(instances=[dict(text='')]), entry(instances=[dict(text='  ')]),
           entry(instances=[dict()]), entry(instances=[dict(text=12345)]), entry(),
           entry(instances=[dict(text='a'), dict(text='b')]),
           entry(instances=[dict(text='x' * 80)]), entry(instances=[dict(text='héllo')]),
           'a/bare/string.png', dict(instances=text), entry(7, instances=text)]
    ann['data_list'] = good + bad
    ann_path.write_text(json.dumps(ann))
    return ann_path


def run(root: Path, iters: int, workers: int) -> dict:
    """Fine-tune the tiny recogniser on the dirty set; returns ``DataHealthHook``'s totals."""
    from mnsp_mm.apis import build_runner, load_config
    from mnsp_mm.engine import DataHealthHook
    config = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
    pipeline = load_config(config).train_pipeline
    cfg = load_config(config, work_dir=str(root / 'work'), cfg_options={
        'train_dataloader.dataset.data_root': str(root), 'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': workers,
        'train_dataloader.dataset.pipeline': pipeline[:-4] + pipeline[-1:],
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': 1000,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': 1000,
        'param_scheduler': []})
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    runner = build_runner(cfg)
    runner.train()
    return next(h for h in runner.hooks if isinstance(h, DataHealthHook)).report(runner)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('root')
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--workers', type=int, default=2)
    args = p.parse_args()
    make_dirty_dataset(Path(args.root))
    totals = run(Path(args.root), args.iters, args.workers)
    print(f'{GOOD + sum(EXPECTED.values())} entries, {GOOD} good; reported: '
          f'{dict(sorted(totals.items()))}')
