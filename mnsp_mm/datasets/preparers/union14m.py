"""Check a hand-downloaded Union14M against the layout our configs read.

``python tools/prepare_dataset.py union14m --check [--data-root data]`` calls
:func:`check_union14m`. The layout is the one in ``dataset_zoo/union14m.md`` (what
``configs/_base_/textrecog/datasets/union14m{,_lmdb}.py`` and
``configs/_base_/pretrain/union14m-u.py`` read). For every part that is present it counts
the samples of each subset (annotation entries or LMDB ``num-samples``) and decodes the
first few images; a part that is absent is reported with where it belongs. The check itself
needs neither mmocr nor torch (only OpenCV, NumPy and lmdb).
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np

TRAIN_SPLITS = ('challenging', 'hard', 'medium', 'normal', 'easy')
BENCHMARK_SUBSETS = ('artistic', 'multi_oriented', 'contextless', 'curve', 'incomplete',
                     'incomplete_ori', 'multi_words', 'salient', 'general')
U_LMDBS = ('book32_lmdb', 'cc_lmdb', 'openvino_lmdb')

_IMG_PATH = re.compile(rb'"img_path"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class Item:
    """One file or LMDB of the layout: its count and decode check, or what is wrong."""
    path: str
    count: Optional[int] = None
    decoded: Tuple[int, int] = (0, 0)  # (decodable, tried)
    problem: Optional[str] = None


@dataclass
class Part:
    """A download of Union14M (e.g. Union14M-U) and its items."""
    name: str
    root: str
    items: List[Item] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return osp.isdir(self.root)

    @property
    def problems(self) -> List[Item]:
        return [i for i in self.items if i.problem]


def _decodes(buf: Optional[bytes]) -> bool:
    if not buf:
        return False
    img = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    return img is not None and img.size > 0


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def count_json(path: str, chunk: int = 16 << 20) -> Tuple[int, List[str]]:
    """Entries of an MMOCR 1.x recognition JSON and its first image paths, without parsing it.

    The training files hold millions of entries; counting ``"img_path"`` keys streams them.

    Returns:
        ``(number of entries, the first 16 img_path values)``.
    """
    count, first, tail = 0, [], b''
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            data = tail + block
            matches = list(_IMG_PATH.finditer(data))
            # a match cut by the block end is counted with the next block
            cut = matches[-1].end() if matches else max(0, len(data) - 4096)
            keep = [m for m in matches if m.end() <= cut]
            count += len(keep)
            first += [m.group(1).decode('utf-8') for m in keep[:16 - len(first)]]
            tail = data[cut:]
    return count, first


def check_json(path: str, img_root: str, num_images: int) -> Item:
    """Count the entries of an annotation file and decode its first images."""
    item = Item(path)
    if not osp.isfile(path):
        item.problem = 'missing'
        return item
    item.count, paths = count_json(path)
    if not item.count:
        item.problem = 'no "img_path" entries: not an MMOCR 1.x textrecog JSON?'
        return item
    tried = paths[:num_images]
    ok = [p for p in tried if _decodes(_read(osp.join(img_root, p)))]
    item.decoded = (len(ok), len(tried))
    if len(ok) < len(tried):
        bad = next(p for p in tried if p not in ok)
        item.problem = (f'{len(tried) - len(ok)} of the first {len(tried)} images do not decode, '
                        f'e.g. {osp.join(img_root, bad)!r} (img_path is read relative to '
                        f'{img_root!r})')
    return item


def check_lmdb(path: str, num_images: int, labeled: bool) -> Item:
    """Read ``num-samples`` of an LMDB and decode its first images (and labels)."""
    item = Item(path)
    if not osp.isfile(osp.join(path, 'data.mdb')):
        item.problem = 'missing (no data.mdb)'
        return item
    import lmdb
    try:
        env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as e:
        item.problem = f'cannot be opened: {e}'
        return item
    with env.begin() as txn:
        num = txn.get(b'num-samples')
        if num is None or not num.strip().isdigit():
            item.problem = f'no valid "num-samples" key (got {num!r})'
        else:
            item.count = int(num)
            idx = range(1, min(num_images, item.count) + 1)
            ok = [i for i in idx if _decodes(txn.get(b'image-%09d' % i))]
            item.decoded = (len(ok), len(idx))
            if len(ok) < len(idx):
                item.problem = f'image-{next(i for i in idx if i not in ok):09d} does not decode'
            elif labeled and any(txn.get(b'label-%09d' % i) is None for i in idx):
                item.problem = 'has images but no label-%09d keys (an unlabeled LMDB?)'
    env.close()
    return item


def _parts(data_root: str, num_images: int) -> Iterator[Tuple[Part, List[Callable[[], Item]]]]:
    """The four downloads and, lazily, the checks of their items."""
    lroot = osp.join(data_root, 'Union14M-L')
    annos = osp.join(lroot, 'train_annos', 'mmocr1.0')
    yield Part('Union14M-L (images + MMOCR 1.x JSON)', lroot), [
        (lambda s=s: check_json(osp.join(annos, f'train_{s}.json'), lroot, num_images))
        for s in TRAIN_SPLITS] + [lambda: check_json(osp.join(annos, 'val_annos.json'),
                                                     lroot, num_images)]
    broot = osp.join(lroot, 'Union14M-Benchmarks')
    yield Part('Union14M-Benchmark', broot), [
        (lambda s=s: check_json(osp.join(broot, s, 'annotation.json'),
                                lroot if s == 'general' else osp.join(broot, s), num_images))
        for s in BENCHMARK_SUBSETS]
    lmdb_root = osp.join(data_root, 'Union14M-L-lmdb')
    yield Part('Union14M-L (LMDB)', lmdb_root), [
        (lambda s=s: check_lmdb(osp.join(lmdb_root, 'train', f'train_{s}'), num_images, True))
        for s in TRAIN_SPLITS] + [
        lambda: check_lmdb(osp.join(lmdb_root, 'val', 'val_annos'), num_images, True)]
    uroot = osp.join(data_root, 'Union14M-U')
    yield Part('Union14M-U (unlabeled LMDBs)', uroot), [
        (lambda n=n: check_lmdb(osp.join(uroot, n), num_images, False)) for n in U_LMDBS]


def check_union14m(data_root: str = 'data', num_images: int = 3,
                   echo: Callable[[str], None] = print) -> Dict[str, Part]:
    """Check every Union14M part under ``data_root`` and print one line per item.

    Args:
        data_root: the folder holding ``Union14M-L/``, ``Union14M-U/``, ...
        num_images: images decoded per subset.
        echo: where the report lines go.

    Returns:
        ``{part name: Part}``; a part that is present but has problems, or no part present
        at all, is what ``tools/prepare_dataset.py union14m --check`` exits 2 on.
    """
    parts = {}
    echo(f'Union14M under {osp.abspath(data_root)} (layout: dataset_zoo/union14m.md)')
    for part, checks in _parts(data_root, num_images):
        parts[part.name] = part
        if not part.present:
            echo(f'  absent  {part.name}: no {part.root}/')
            continue
        echo(f'  {part.name}: {part.root}/')
        for check in checks:
            item = check()
            part.items.append(item)
            rel = osp.relpath(item.path, part.root)
            count = '' if item.count is None else f'{item.count:,} samples'
            decoded = f', {item.decoded[0]}/{item.decoded[1]} images decode' \
                if item.decoded[1] else ''
            if item.problem:
                echo(f'    PROBLEM {rel}: {item.problem}' + (f' ({count})' if count else ''))
            else:
                echo(f'    ok      {rel}: {count}{decoded}')
    _hint_annotation_folder(data_root, parts, echo)
    present = [p for p in parts.values() if p.present]
    bad = sum(len(p.problems) for p in present)
    if not present:
        echo('No Union14M part found: download it by hand (dataset_zoo/union14m.md) and put '
             f'it under {osp.abspath(data_root)}, or pass --data-root.')
    elif bad:
        echo(f'{bad} problem(s): fix them (dataset_zoo/union14m.md says what goes where).')
    else:
        echo('Every part present is complete.')
    return parts


def _hint_annotation_folder(data_root: str, parts: Dict[str, Part],
                            echo: Callable[[str], None]) -> None:
    """The Union14M README names the JSON folder ``mmocr1.0.x``; our configs read ``mmocr1.0``."""
    other = osp.join(data_root, 'Union14M-L', 'train_annos', 'mmocr1.0.x')
    first = parts.get('Union14M-L (images + MMOCR 1.x JSON)')
    if osp.isdir(other) and first is not None and first.problems:
        echo(f'  hint: {other}/ exists; our configs read train_annos/mmocr1.0/: rename it or '
             f'`ln -s mmocr1.0.x {osp.join(osp.dirname(other), "mmocr1.0")}`')
