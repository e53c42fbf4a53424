"""Robust image loading for unlabeled text crops (files or LMDB records).

:class:`LoadTextImage` turns a data info produced by
:class:`~mnsp_mm.datasets.unlabeled.UnlabeledTextDataset` (``img_path`` or ``lmdb_path`` +
``lmdb_key``) into an ``(H, W, 3)`` ``uint8`` image. Broken samples (missing, empty,
truncated, undecodable, zero-sized) are logged, counted per process and skipped by
returning ``None``, unless ``fail_fast=True``.
"""
import logging
import os
import threading
from typing import Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log

from ..registry import register_transform
from .image_decode import MAX_PIXELS, BadImage, decode_text_image
from .skip_counts import (SKIP_REASONS, count_skip, drain_skip_counts, reset_skip_counts,
                          skip_counts)

__all__ = ['LoadTextImage', 'TextImageLoadError', 'get_lmdb_env', 'decode_text_image',
           'SKIP_REASONS', 'MAX_PIXELS', 'count_skip', 'drain_skip_counts']

class TextImageLoadError(RuntimeError):
    """A sample could not be loaded (raised by ``LoadTextImage(fail_fast=True)``).

    Attributes:
        where (str): The file path or ``'<lmdb_path>:<lmdb_key>'``.
        reason (str): One of :data:`SKIP_REASONS`.
    """

    def __init__(self, where: str, reason: str, detail: str):
        self.where = where
        self.reason = reason
        super().__init__(f'cannot load text image {where!r} ({reason}: {detail})')


# ------------------------------------------------------------------ LMDB access
# Environments are opened lazily, once per (path, pid). An LMDB environment must not be used
# across fork(), and keeping it out of the dataset/transform objects keeps them picklable.
_LMDB_ENVS: Dict[Tuple[str, int], object] = {}
_LMDB_LOCK = threading.Lock()


def get_lmdb_env(lmdb_path: str):
    """Return a read-only ``lmdb.Environment`` for ``lmdb_path`` owned by this process.

    Args:
        lmdb_path (str): LMDB directory (the one holding ``data.mdb``).

    Returns:
        lmdb.Environment: Cached per ``(lmdb_path, os.getpid())``.

    Raises:
        RuntimeError: If the LMDB cannot be opened (a configuration problem, not a broken
            sample, so it is never skipped).
    """
    import lmdb

    key = (lmdb_path, os.getpid())
    env = _LMDB_ENVS.get(key)
    if env is None:
        with _LMDB_LOCK:
            env = _LMDB_ENVS.get(key)
            if env is None:
                try:
                    # lock=False: read-only sharing; readahead=False suits random access.
                    env = lmdb.open(lmdb_path, readonly=True, lock=False, readahead=False,
                                    meminit=False, max_readers=64)
                except lmdb.Error as e:
                    raise RuntimeError(f'LoadTextImage: cannot open LMDB {lmdb_path!r}: '
                                       f'{e}') from e
                _LMDB_ENVS[key] = env
    return env


@register_transform(scopes=('mmpretrain', 'mmocr'))
class LoadTextImage(BaseTransform):
    """Load a text image from a file or an LMDB record; skip broken samples.

    Required keys: ``img_path``, or ``lmdb_path`` and ``lmdb_key``.

    Added keys: ``img`` (``(H, W, 3)`` ``uint8``, or ``float32`` with ``to_float32``),
    ``img_shape`` and ``ori_shape`` (both ``(H, W)``).

    On a broken sample (missing file or LMDB key, zero bytes, truncated or undecodable data,
    a zero dimension, a side shorter than ``min_size``, more pixels than ``max_pixels``) it
    logs a warning naming the sample with the running skip total of this process, increments
    the counter returned by :meth:`skipped`, and returns ``None``;
    ``mmengine.dataset.BaseDataset.__getitem__`` then fetches another random index in training
    mode (and raises in ``test_mode``). With ``fail_fast=True`` it raises
    :class:`TextImageLoadError` naming the sample instead.

    Args:
        channel_order (str): ``'rgb'`` (default: pretraining works in RGB) or ``'bgr'``
            (mmcv / mmocr convention). With ``'rgb'``, the data preprocessor must not swap
            channels again (``to_rgb=False`` / ``bgr_to_rgb=False``).
        fail_fast (bool): Raise instead of skipping. Defaults to False.
        ignore_empty (bool, optional): mmocr-style spelling, ``ignore_empty=False`` is the
            same as ``fail_fast=True``. Defaults to None (use ``fail_fast``).
        min_size (int): Skip images whose shorter side is below this (reason
            ``'too_small'``). Defaults to 0 (only zero-sized images are skipped).
        ignore_orientation (bool): Ignore EXIF orientation. Defaults to False.
        max_pixels (int, optional): Skip images whose header declares more pixels (reason
            ``'too_large'``), without decoding them. Defaults to :data:`MAX_PIXELS` (2^25);
            ``None`` removes the cap.
        to_float32 (bool): Convert ``img`` to float32. Defaults to False.
        backend_args (dict, optional): mmengine file backend args for ``img_path`` (e.g.
            remote storage). Defaults to None (local disk).
    """

    def __init__(self,
                 channel_order: str = 'rgb',
                 fail_fast: bool = False,
                 ignore_empty: Optional[bool] = None,
                 min_size: int = 0,
                 ignore_orientation: bool = False,
                 max_pixels: Optional[int] = MAX_PIXELS,
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None):
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if ignore_empty is not None:
            if fail_fast and ignore_empty:
                raise ValueError('LoadTextImage: fail_fast=True contradicts ignore_empty=True')
            fail_fast = not ignore_empty
        self.channel_order = channel_order
        self.fail_fast = bool(fail_fast)
        self.min_size = int(min_size)
        self.ignore_orientation = ignore_orientation
        self.max_pixels = None if max_pixels is None else int(max_pixels)
        self.to_float32 = to_float32
        self.backend_args = None if backend_args is None else dict(backend_args)

    # ----------------------------------------------------------- counter API
    @staticmethod
    def skipped() -> Dict[str, int]:
        """Skips so far in the calling process.

        Returns:
            dict[str, int]: ``{reason: count}`` with reasons from :data:`SKIP_REASONS`
            (only reasons that occurred). Dataloader workers are separate processes: each
            counts its own skips, which the main process does not see.
        """
        return skip_counts()

    @staticmethod
    def total_skipped() -> int:
        """Total number of skips in the calling process."""
        return sum(LoadTextImage.skipped().values())

    @staticmethod
    def reset_skipped() -> None:
        """Reset the skip counters of the calling process."""
        reset_skip_counts()

    # ------------------------------------------------------------- loading
    def _read_bytes(self, results: dict) -> Tuple[str, bytes]:
        if results.get('lmdb_path') is not None:
            lmdb_path, key = results['lmdb_path'], results.get('lmdb_key')
            where = f'{lmdb_path}:{key}'
            if not key:
                raise BadImage('missing', 'data info has lmdb_path but no lmdb_key')
            with get_lmdb_env(lmdb_path).begin(write=False) as txn:
                buf = txn.get(key.encode('ascii'))
            if buf is None:
                raise BadImage('missing', f'key {key!r} not in LMDB')
            return where, bytes(buf)
        path = results.get('img_path')
        if path is None:
            raise KeyError('LoadTextImage needs "img_path" or "lmdb_path"+"lmdb_key" in the '
                           f'data info, got keys {sorted(results)}')
        try:
            # mmengine.fileio handles local and remote backends uniformly.
            return path, fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise BadImage('missing', 'file not found') from e
        except OSError as e:  # a directory, no permission, I/O error, ...
            raise BadImage('missing', f'cannot read file: {e}') from e

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image of one sample.

        Args:
            results (dict): Data info with ``img_path`` or ``lmdb_path``/``lmdb_key``.

        Returns:
            dict | None: ``results`` with ``img`` ``(H, W, 3)``, ``img_shape``,
            ``ori_shape``; ``None`` if the sample is broken and ``fail_fast`` is False.
        """
        where = results.get('img_path') or \
            f'{results.get("lmdb_path")}:{results.get("lmdb_key")}'
        try:
            where, buf = self._read_bytes(results)
            img = decode_text_image(buf, self.channel_order, self.ignore_orientation,
                                    self.max_pixels)
            if min(img.shape[:2]) < self.min_size:
                raise BadImage('too_small',
                                f'shape {img.shape[:2]} below min_size={self.min_size}')
        except BadImage as bad:
            if self.fail_fast:
                raise TextImageLoadError(where, bad.reason, bad.detail) from bad
            total, counts = count_skip(bad.reason)
            print_log(f'LoadTextImage: skipped {where!r} ({bad.reason}: {bad.detail}); '
                      f'{total} skipped so far in process {os.getpid()}: {counts}',
                      logger='current', level=logging.WARNING)
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channel_order={self.channel_order!r}, '
                f'fail_fast={self.fail_fast}, min_size={self.min_size}, '
                f'ignore_orientation={self.ignore_orientation}, '
                f'max_pixels={self.max_pixels}, to_float32={self.to_float32}, '
                f'backend_args={self.backend_args})')
