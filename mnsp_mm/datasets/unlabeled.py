"""Unlabeled text-image dataset for self-supervised pretraining (MAE / LMIM / MNSP).

One :class:`UnlabeledTextDataset` enumerates text crops from any mix of

* ``'lmdb'``   -- a Union14M-U / LMIM LMDB (keys ``num-samples`` and 1-based ``image-%09d``)
  or a labeled MMOCR LMDB (its ``label-%09d`` keys are ignored). Given a directory without
  ``data.mdb`` and ``type='lmdb'``, every LMDB below it is used (e.g. the Union14M-U root
  holding ``book32_lmdb/``, ``cc_lmdb/``, ``openvino_lmdb/``);
* ``'folder'`` -- a directory searched recursively for images; a folder with no image but
  LMDBs below it (``tools/render_synth.py --format lmdb`` writes ``<out>/lmdb/<name>/``) is
  those LMDBs. :func:`iter_path_samples` applies the same rule for other readers
  (``tools/infer.py``);
* ``'list'``   -- a text file with one image path per line;
* ``'json'``   -- an MMOCR 1.x textrecog annotation file (only ``img_path`` is used).

Enumeration never reads image bytes: LMDBs are only asked for ``num-samples``. Images are
decoded later by the :class:`~mnsp_mm.datasets.transforms.LoadTextImage` transform, which
opens LMDB environments lazily per process, so the dataset object stays cheap to pickle.
"""
import array
import json
import logging
import os
import os.path as osp
import pickle
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..registry import register_dataset

#: File extensions (lower case) recognised as images in ``'folder'`` sources.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif')

#: Source kinds understood by :class:`UnlabeledTextDataset`.
SOURCE_KINDS = ('lmdb', 'folder', 'list', 'json')

SourceSpec = Union[str, os.PathLike, dict]


def _is_lmdb_dir(path: str) -> bool:
    return osp.isfile(osp.join(path, 'data.mdb'))


def detect_source_kind(path: str) -> str:
    """Guess the kind of a source from its path.

    Rules: a directory holding ``data.mdb`` (or a ``*.mdb`` file) is an LMDB, any other
    directory an image folder, a ``*.json`` file an MMOCR annotation file, and any other
    file an image list.

    Args:
        path (str): Path of the source; must exist.

    Returns:
        str: One of :data:`SOURCE_KINDS`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
    """
    if osp.isdir(path):
        return 'lmdb' if _is_lmdb_dir(path) else 'folder'
    if osp.isfile(path):
        ext = osp.splitext(path)[1].lower()
        if ext == '.mdb':
            return 'lmdb'
        if ext == '.json':
            return 'json'
        return 'list'
    raise FileNotFoundError(f'UnlabeledTextDataset: source path does not exist: {path!r}')


def read_lmdb_num_samples(lmdb_path: str) -> int:
    """Read the ``num-samples`` key of an LMDB without touching any image.

    Args:
        lmdb_path (str): LMDB directory (the one holding ``data.mdb``).

    Returns:
        int: The declared number of samples.

    Raises:
        FileNotFoundError: If ``lmdb_path`` is not an LMDB directory.
        ValueError: If the LMDB cannot be opened or has no valid ``num-samples`` key.
    """
    import lmdb  # imported lazily: only LMDB sources need it

    if not _is_lmdb_dir(lmdb_path):
        raise FileNotFoundError(
            f'UnlabeledTextDataset: no LMDB (data.mdb) found at {lmdb_path!r}')
    try:
        env = lmdb.open(lmdb_path, readonly=True, lock=False, readahead=False,
                        meminit=False, max_readers=1)
    except lmdb.Error as e:
        raise ValueError(f'UnlabeledTextDataset: cannot open LMDB {lmdb_path!r}: {e}') from e
    try:
        with env.begin(write=False) as txn:
            raw = txn.get(b'num-samples')
    finally:
        env.close()
    if raw is None:
        raise ValueError(f'UnlabeledTextDataset: LMDB {lmdb_path!r} has no "num-samples" key '
                         '(expected a Union14M-U / LMIM / MMOCR LMDB with keys '
                         '"num-samples" and 1-based "image-%09d")')
    try:
        num = int(bytes(raw).decode('ascii').strip())
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f'UnlabeledTextDataset: LMDB {lmdb_path!r} has an invalid '
                         f'"num-samples" value {bytes(raw)[:32]!r}') from e
    if num < 0:
        raise ValueError(f'UnlabeledTextDataset: LMDB {lmdb_path!r} has negative '
                         f'"num-samples" {num}')
    return num


def iter_path_samples(path: str) -> Iterator[dict]:
    """Every sample a path holds, by the rule :class:`UnlabeledTextDataset` reads a source
    string with (:func:`detect_source_kind`; a folder without images is the LMDBs below it).

    Args:
        path (str): An LMDB, an image folder, an image list or an MMOCR JSON file.

    Yields:
        dict: ``{'img_path': str}`` or ``{'lmdb_path': str, 'lmdb_key': str}``.

    Raises:
        FileNotFoundError / ValueError: one line naming the path, as the dataset raises.
    """
    dataset = UnlabeledTextDataset(sources=[path], pipeline=[], lazy_init=True,
                                   serialize_data=False)
    found = False
    for info in dataset.iter_data_infos():
        found = True
        yield info
    if not found:
        dataset._check_not_empty(0)


def _read_source(path: str, what: str, parse: Callable):
    """``parse(file)`` of a list or annotation source, read eagerly so that a bad file fails
    at construction with its name."""
    try:
        with open(path, 'r', encoding='utf-8') as f:
            return parse(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ValueError(f'UnlabeledTextDataset: cannot read {what} {path!r}: {e}') from e


def _walk_sorted(root: str) -> Iterator[tuple]:
    """``os.walk`` with sorted, deterministic order that follows symlinked directories
    once (``os.walk(followlinks=True)`` alone would loop forever on a symlink cycle)."""
    seen = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = osp.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        yield dirpath, dirnames, sorted(filenames)


@register_dataset(scopes=('mmpretrain', 'mmocr'))
class UnlabeledTextDataset(BaseDataset):
    """Images of text without labels, from LMDBs, folders, image lists or MMOCR JSON files.

    Each data info holds only where the image is::

        {'img_path': '/data/crops/000001.jpg'}                       # file sources
        {'lmdb_path': '/data/Union14M-U/cc_lmdb', 'lmdb_key': 'image-000000001'}  # LMDB

    and :meth:`get_data_info` adds ``'sample_idx'``. Use it with a pipeline starting with
    ``dict(type='LoadTextImage')``, which produces ``results['img']`` of shape
    ``(H, W, 3)``, dtype ``uint8``.

    Example:
        >>> dataset = dict(
        ...     type='UnlabeledTextDataset',
        ...     data_root='data/',
        ...     sources=['Union14M-U/book32_lmdb',             # auto-detected: LMDB
        ...              dict(type='folder', path='my_crops'),
        ...              dict(path='lists/extra.txt', data_root='/mnt/imgs')],
        ...     pipeline=[dict(type='LoadTextImage'), ...])

    Args:
        sources (list[str | dict], optional): The sources, concatenated in order. A string
            is a path whose kind is auto-detected (see :func:`detect_source_kind`). A dict
            has the keys ``path`` (required), ``type`` (one of ``'lmdb'``, ``'folder'``,
            ``'list'``, ``'json'``; auto-detected when omitted), ``data_root`` (for
            ``'list'``/``'json'``: directory that relative image paths are resolved
            against; defaults to the directory of the list/JSON file) and ``max_samples``
            (cap for this source). Relative source paths are resolved against
            ``data_root``. Defaults to None, meaning ``[ann_file]``.
        ann_file (str): Shorthand for a single source when ``sources`` is not given
            (joined with ``data_root`` by mmengine when relative). Defaults to ''.
        data_root (str): Root that relative source paths are resolved against.
            Defaults to ''.
        max_samples (int, optional): Keep at most this many samples in total (the first
            ones, in source order). Enumeration stops early, so this is cheap even for huge
            folders or list files -- meant for tiny smoke-test configs. Defaults to None.
        lmdb_key_template (str): Key format of LMDB images, filled with the 1-based index.
            Defaults to ``'image-%09d'``.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset` (``pipeline``,
            ``serialize_data``, ``indices``, ``test_mode``, ``lazy_init``,
            ``max_refetch``, ...).

    Raises:
        FileNotFoundError: A source path (or an LMDB directory) does not exist.
        ValueError: Bad source spec, an unreadable list/JSON file, an LMDB without
            ``num-samples``, or no samples at all.

    Note:
        When the pipeline returns ``None`` for a broken image (what ``LoadTextImage`` does
        by default), ``BaseDataset.__getitem__`` draws another random index (up to
        ``max_refetch`` times) in training mode. With ``test_mode=True`` it raises instead,
        so build evaluation datasets with ``LoadTextImage(fail_fast=True)`` to get an error
        naming the file.
    """

    METAINFO: dict = dict(dataset_type='unlabeled_text')

    def __init__(self,
                 sources: Optional[Sequence[SourceSpec]] = None,
                 ann_file: str = '',
                 data_root: str = '',
                 max_samples: Optional[int] = None,
                 lmdb_key_template: str = 'image-%09d',
                 **kwargs):
        if max_samples is not None and int(max_samples) < 0:
            raise ValueError(f'max_samples must be >= 0, got {max_samples}')
        self.max_samples = None if max_samples is None else int(max_samples)
        self.lmdb_key_template = lmdb_key_template
        # `sources` is validated before BaseDataset.__init__ so that a bad config fails
        # even with lazy_init=True; ann_file is joined with data_root by mmengine later.
        if sources is not None and ann_file:
            raise ValueError('UnlabeledTextDataset: give either `sources` or `ann_file`, '
                             'not both')
        if sources is not None and isinstance(sources, (str, os.PathLike, dict)):
            sources = [sources]
        self._raw_sources = list(sources) if sources is not None else None
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ sources
    def _normalize_sources(self) -> List[dict]:
        """Turn the ``sources`` argument into dicts with resolved paths and kinds."""
        raw = self._raw_sources
        from_ann_file = raw is None
        if from_ann_file:
            if not self.ann_file:
                raise ValueError('UnlabeledTextDataset: no data; pass `sources=[...]` '
                                 'or `ann_file`')
            raw = [self.ann_file]  # already joined with data_root by BaseDataset
        if len(raw) == 0:
            raise ValueError('UnlabeledTextDataset: `sources` is empty')
        out = []
        for spec in raw:
            if isinstance(spec, (str, os.PathLike)):
                spec = dict(path=spec)
            if not isinstance(spec, dict):
                raise ValueError('UnlabeledTextDataset: each source must be a path or a '
                                 f'dict with a "path" key, got {spec!r}')
            unknown = set(spec) - {'type', 'path', 'data_root', 'max_samples'}
            if unknown or 'path' not in spec:
                raise ValueError('UnlabeledTextDataset: a source dict needs "path" and may '
                                 'have "type", "data_root", "max_samples"; got '
                                 f'{dict(spec)!r}')
            path = os.fspath(spec['path'])
            if self.data_root and not osp.isabs(path) and not from_ann_file:
                path = osp.join(self.data_root, path)
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'UnlabeledTextDataset: source path does not exist: {path!r}')
            kind = spec.get('type') or detect_source_kind(path)
            if kind not in SOURCE_KINDS:
                raise ValueError(f'UnlabeledTextDataset: unknown source type {kind!r} for '
                                 f'{path!r}; expected one of {SOURCE_KINDS}')
            if kind == 'lmdb' and osp.isfile(path):
                path = osp.dirname(path) or '.'  # given .../data.mdb: LMDB is its folder
            if kind == 'folder' and not osp.isdir(path):
                raise ValueError(f'UnlabeledTextDataset: folder source is not a directory: '
                                 f'{path!r}')
            if kind in ('list', 'json') and not osp.isfile(path):
                raise ValueError(f'UnlabeledTextDataset: {kind} source is not a file: '
                                 f'{path!r}')
            max_n = spec.get('max_samples')
            if max_n is not None and int(max_n) < 0:
                raise ValueError(f'max_samples must be >= 0, got {max_n} for {path!r}')
            out.append(dict(type=kind, path=path, data_root=spec.get('data_root'),
                            max_samples=None if max_n is None else int(max_n)))
        return out

    # ------------------------------------------------------------- enumeration
    def _iter_lmdb(self, src: dict, limit: Optional[int]) -> Iterator[dict]:
        path = src['path']
        if _is_lmdb_dir(path):
            lmdb_dirs = [path]
        else:
            # A root holding several LMDBs (e.g. Union14M-U/{book32,cc,openvino}_lmdb).
            lmdb_dirs = [d for d, _, files in _walk_sorted(path) if 'data.mdb' in files]
            if not lmdb_dirs:
                raise FileNotFoundError(
                    f'UnlabeledTextDataset: no LMDB (data.mdb) found at or below {path!r}')
        emitted = 0
        for lmdb_dir in lmdb_dirs:
            num = read_lmdb_num_samples(lmdb_dir)
            if num == 0:
                print_log(f'UnlabeledTextDataset: LMDB {lmdb_dir!r} declares 0 samples',
                          logger='current', level=logging.WARNING)
            for i in range(1, num + 1):  # LMDB image keys are 1-based
                if limit is not None and emitted >= limit:
                    return
                yield {'lmdb_path': lmdb_dir, 'lmdb_key': self.lmdb_key_template % i}
                emitted += 1

    def _iter_folder(self, src: dict, limit: Optional[int]) -> Iterator[dict]:
        root = src['path']
        emitted = 0
        found_mdb = False
        for dirpath, _, filenames in _walk_sorted(root):
            for name in filenames:
                if limit is not None and emitted >= limit:
                    return
                if osp.splitext(name)[1].lower() in IMG_EXTENSIONS:
                    yield {'img_path': osp.join(dirpath, name)}
                    emitted += 1
                elif name == 'data.mdb':
                    found_mdb = True
        if emitted == 0 and found_mdb:  # no image, only LMDBs below: those LMDBs
            yield from self._iter_lmdb(src, limit)

    @staticmethod
    def _iter_list(src: dict, limit: Optional[int]) -> Iterator[dict]:
        path = src['path']
        base = src['data_root'] if src['data_root'] is not None else osp.dirname(path)
        lines = _read_source(path, 'image list', lambda f: f.read().splitlines())
        emitted = 0
        for line in lines:
            if limit is not None and emitted >= limit:
                return
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            yield {'img_path': line if osp.isabs(line) else osp.join(base, line)}
            emitted += 1

    @staticmethod
    def _iter_json(src: dict, limit: Optional[int]) -> Iterator[dict]:
        path = src['path']
        base = src['data_root'] if src['data_root'] is not None else osp.dirname(path)
        ann = _read_source(path, 'MMOCR annotation file', json.load)
        data_list = ann.get('data_list') if isinstance(ann, dict) else None
        if not isinstance(data_list, list):
            raise ValueError(f'UnlabeledTextDataset: {path!r} is not an MMOCR annotation '
                             'file (expected {"metainfo": ..., "data_list": [...]})')
        emitted = 0
        for k, item in enumerate(data_list):
            if limit is not None and emitted >= limit:
                return
            img = item.get('img_path') if isinstance(item, dict) else None
            if not isinstance(img, str) or not img:
                raise ValueError(f'UnlabeledTextDataset: entry {k} of {path!r} has no '
                                 '"img_path"')
            yield {'img_path': img if osp.isabs(img) else osp.join(base, img)}
            emitted += 1

    def iter_data_infos(self) -> Iterator[dict]:
        """Yield the data info of every sample, source by source, without reading images.

        Yields:
            dict: ``{'img_path': str}`` or ``{'lmdb_path': str, 'lmdb_key': str}``.
        """
        readers = dict(lmdb=self._iter_lmdb, folder=self._iter_folder,
                       list=self._iter_list, json=self._iter_json)
        total = 0
        for src in self._normalize_sources():
            limits = [n for n in (src['max_samples'], None if self.max_samples is None
                                  else self.max_samples - total) if n is not None]
            limit = min(limits) if limits else None
            count = 0
            for info in readers[src['type']](src, limit):
                count += 1
                yield info
            total += count
            if count == 0 and limit != 0:
                print_log(f'UnlabeledTextDataset: {src["type"]} source {src["path"]!r} '
                          'has no samples', logger='current', level=logging.WARNING)
            if self.max_samples is not None and total >= self.max_samples:
                break

    def load_data_list(self) -> List[dict]:
        """Enumerate all sources (no image bytes are read).

        Returns:
            list[dict]: One data info per sample, see :meth:`iter_data_infos`.
        """
        data_list = list(self.iter_data_infos())
        self._check_not_empty(len(data_list))
        return data_list

    def _check_not_empty(self, n: int) -> None:
        if n == 0:
            names = [s['path'] for s in self._normalize_sources()]
            raise ValueError(f'UnlabeledTextDataset: no samples found in sources {names}')

    def full_init(self) -> None:
        """Enumerate the sources and, with ``serialize_data=True``, serialize on the fly.

        Same result as :meth:`BaseDataset.full_init`, but in the serialized case the data
        infos are pickled one by one into a growing buffer instead of first building a
        list of dicts and then a list of arrays: Union14M-U has ~10M samples, and that
        list would cost several GB of peak RAM before mmengine compacts it.
        """
        if self._fully_initialized:
            return
        if not self.serialize_data:
            super().full_init()
            return
        buf = bytearray()
        sizes = array.array('q')
        for info in self.iter_data_infos():
            blob = pickle.dumps(info, protocol=4)  # same protocol as BaseDataset
            buf += blob
            sizes.append(len(blob))
        self._check_not_empty(len(sizes))
        self.data_list = []
        # Layout identical to BaseDataset._serialize_data, so get_data_info, get_subset and
        # indices work unchanged.
        self.data_bytes = np.frombuffer(buf, dtype=np.uint8)  # no copy; keeps buf alive
        self.data_address = np.cumsum(np.frombuffer(sizes, dtype=np.int64))
        del buf, sizes  # refcount frees them; no gc.collect() (0.3 s with torch loaded)
        # Set before slicing: _get_serialized_subset is decorated with @force_full_init and
        # would otherwise re-enter this method.
        self._fully_initialized = True
        if self._indices is not None:
            self.data_bytes, self.data_address = self._get_serialized_subset(self._indices)
