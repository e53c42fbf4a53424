"""``tools/prepare_dataset.py union14m --check`` on a miniature Union14M in the real layout."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import lmdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ('challenging', 'hard', 'medium', 'normal', 'easy')
SUBSETS = ('artistic', 'multi_oriented', 'contextless', 'curve', 'incomplete', 'incomplete_ori',
           'multi_words', 'salient', 'general')


def png(seed: int) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (16, 48, 3), dtype=np.uint8)
    return cv2.imencode('.png', img)[1].tobytes()


def annotation(path: Path, img_root: Path, names, seed: int) -> None:
    """An MMOCR 1.x textrecog JSON whose images exist under ``img_root``."""
    for i, name in enumerate(names):
        (img_root / name).parent.mkdir(parents=True, exist_ok=True)
        (img_root / name).write_bytes(png(seed + i))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        'metainfo': {'dataset_type': 'TextRecogDataset', 'task_name': 'textrecog'},
        'data_list': [{'img_path': n, 'instances': [{'text': f'w{i}'}]}
                      for i, n in enumerate(names)]}))


def lmdb_of(path: Path, num: int, labeled: bool) -> None:
    path.mkdir(parents=True)
    env = lmdb.open(str(path), map_size=1 << 22)
    with env.begin(write=True) as txn:
        txn.put(b'num-samples', str(num).encode())
        for i in range(1, num + 1):
            txn.put(b'image-%09d' % i, png(i))
            if labeled:
                txn.put(b'label-%09d' % i, b'word')
    env.close()


def union14m(root: Path) -> Path:
    """Union14M-L (JSON + images), the benchmark, Union14M-U; counts 2-4 per subset."""
    lroot = root / 'Union14M-L'
    annos = lroot / 'train_annos' / 'mmocr1.0'
    for k, split in enumerate(SPLITS):
        annotation(annos / f'train_{split}.json', lroot,
                   [f'full_images/src{k}/{i}.png' for i in range(2 + k % 3)], 10 * k)
    annotation(annos / 'val_annos.json', lroot, ['full_images/val/0.png'], 90)
    broot = lroot / 'Union14M-Benchmarks'
    for k, subset in enumerate(SUBSETS):
        img_root = lroot if subset == 'general' else broot / subset
        annotation(broot / subset / 'annotation.json', img_root,
                   [f'imgs/{subset}_{i}.jpg' for i in range(3)], 100 + 10 * k)
    for k, name in enumerate(('book32_lmdb', 'cc_lmdb', 'openvino_lmdb')):
        lmdb_of(root / 'Union14M-U' / name, 4 + k, labeled=False)
    return root


def check(root: Path):
    """``tools/prepare_dataset.py union14m --check`` in this process (its main, the CLI's
    parsing included; the logic is mnsp_mm.datasets.preparers.union14m)."""
    import contextlib
    import importlib.util
    import io
    spec = importlib.util.spec_from_file_location('prepare_dataset_tool',
                                                  ROOT / 'tools' / 'prepare_dataset.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = tool.main(['union14m', '--check', '--data-root', str(root)])
    return code, out.getvalue()


def test_complete_layout_passes_with_counts(tmp_path):
    code, out = check(union14m(tmp_path))
    assert code == 0, out
    assert 'ok      train_annos/mmocr1.0/train_medium.json: 4 samples, 3/3 images decode' in out
    assert 'ok      multi_oriented/annotation.json: 3 samples, 3/3 images decode' in out
    assert 'ok      openvino_lmdb: 6 samples, 3/3 images decode' in out
    assert 'absent  Union14M-L (LMDB)' in out and 'Every part present is complete.' in out


def test_missing_and_broken_parts_are_named(tmp_path):
    root = union14m(tmp_path)
    lroot = root / 'Union14M-L'
    (lroot / 'train_annos' / 'mmocr1.0' / 'train_hard.json').unlink()
    (lroot / 'Union14M-Benchmarks' / 'curve' / 'imgs' / 'curve_1.jpg').write_bytes(b'not an image')
    (root / 'Union14M-U' / 'cc_lmdb' / 'data.mdb').unlink()
    lmdb_of(root / 'Union14M-L-lmdb' / 'train' / 'train_easy', 2, labeled=False)
    # the README's folder name, which our configs do not read
    (lroot / 'train_annos' / 'mmocr1.0').rename(lroot / 'train_annos' / 'mmocr1.0.x')
    code, out = check(root)
    assert code == 2, out
    assert 'PROBLEM train_annos/mmocr1.0/train_challenging.json: missing' in out
    assert 'hint: ' in out and 'mmocr1.0.x/ exists' in out
    assert "PROBLEM curve/annotation.json: 1 of the first 3 images do not decode, e.g. " \
           f"'{lroot / 'Union14M-Benchmarks' / 'curve' / 'imgs' / 'curve_1.jpg'}'" in out
    assert 'PROBLEM cc_lmdb: missing (no data.mdb)' in out
    assert 'PROBLEM train/train_easy: has images but no label-%09d keys' in out
    assert 'PROBLEM train/train_hard: missing (no data.mdb)' in out


def test_nothing_downloaded_and_misuse(tmp_path):
    code, out = check(tmp_path)
    assert code == 2 and 'No Union14M part found' in out
    res = subprocess.run([sys.executable, ROOT / 'tools' / 'prepare_dataset.py', 'union14m'],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and 'Union14M has no preparer' in res.stderr
