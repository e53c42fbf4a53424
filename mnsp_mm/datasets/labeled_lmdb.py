"""Labeled text crops in an LMDB (Union14M-L-LMDB, the Chinese benchmark, MMOCR's ``--lmdb``)."""
import os.path as osp
from typing import List

from mmengine.dataset import BaseDataset

from ..registry import register_dataset
from .transforms import get_lmdb_env


@register_dataset(scopes=('mmocr', ))
class LabeledLMDBDataset(BaseDataset):
    """A labeled LMDB read through :class:`LoadTextImage` (robust, one env per process).

    The layout of MMOCR's ``RecogLMDBDataset``, of the Union14M-L LMDB release and of the
    Chinese text recognition benchmark: ``num-samples``, then ``image-%09d`` (encoded image)
    and ``label-%09d`` (UTF-8 text), 1-based. Each sample's data info is
    ``{'lmdb_path', 'lmdb_key', 'img_path': '<lmdb>/<key>', 'instances': [{'text'}]}``, so
    the usual fine-tuning pipelines work with ``LoadTextImage`` in place of
    ``LoadImageFromFile``: a broken image is skipped and counted like a broken file, and
    every dataloader worker opens its own LMDB handle (MMOCR's dataset shares the one it
    opened at build time with the forked workers).

    Args:
        ann_file: the LMDB folder (holding ``data.mdb``), relative to ``data_root``.
        kwargs: as :class:`mmengine.dataset.BaseDataset` (``data_root``, ``pipeline``,
            ``test_mode``, ``indices``, ...).

    Raises:
        FileNotFoundError: naming the path when it holds no ``data.mdb``.
        ValueError: naming the LMDB when it has no valid ``num-samples`` or lacks the label
            of an image.
    """

    def __init__(self, ann_file: str, **kwargs):
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(osp.join(path, 'data.mdb')):
            raise FileNotFoundError(f'LabeledLMDBDataset: no LMDB (data.mdb) at {path!r}')
        data_list = []
        with get_lmdb_env(path).begin(write=False) as txn:
            num = txn.get(b'num-samples')
            if num is None or not num.strip().isdigit():
                raise ValueError(f'LabeledLMDBDataset: {path!r} has no valid "num-samples" key '
                                 f'(got {num!r})')
            num = int(num)
            for i in range(1, num + 1):
                label = txn.get(b'label-%09d' % i)
                if label is None:
                    raise ValueError(f'{path}: label-{i:09d} is missing (num-samples={num}); '
                                     'an unlabeled LMDB goes to UnlabeledTextDataset')
                key = f'image-{i:09d}'
                data_list.append(dict(lmdb_path=path, lmdb_key=key, img_path=osp.join(path, key),
                                      instances=[dict(text=label.decode('utf-8'))]))
        return data_list
