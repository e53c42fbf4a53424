"""Robust image loading for unlabeled text crops (files or LMDB records).

:class:`LoadTextImage` turns a data info produced by
:class:`~mnsp_mm.datasets.unlabeled.UnlabeledTextDataset` (``img_path`` or ``lmdb_path`` +
``lmdb_key``) into an ``(H, W, 3)`` ``uint8`` image. Broken samples (missing, empty,
truncated, undecodable, zero-sized) are logged, counted per process and skipped by
returning ``None``, unless ``fail_fast=True``.
"""
import io
import logging
import os
import threading
from collections import Counter
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log

from ..registry import register_transform

#: Reasons a sample can be skipped for (keys of :meth:`LoadTextImage.skipped`).
SKIP_REASONS = ('missing', 'empty', 'truncated', 'undecodable', 'zero_size', 'too_small',
                'too_large')

#: Default cap on decoded pixels (``LoadTextImage(max_pixels=...)``): 2^25, e.g. 8192x4096,
#: far above any text crop, far below a decompression bomb (a 389 KB PNG of 20000x20000).
MAX_PIXELS = 1 << 25


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


class _BadImage(Exception):
    """Internal: decoding failed for ``reason`` (one of SKIP_REASONS)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# ----------------------------------------------------------------- skip counters
# Per-process counters keyed by pid: a forked dataloader worker inherits the parent's dict,
# but keying by pid makes it start from zero and report only its own skips.
_SKIP_LOCK = threading.Lock()
_SKIP_COUNTS: Dict[int, Counter] = {}


_SKIP_DRAINED: Dict[int, Counter] = {}


def count_skip(reason: str) -> Tuple[int, Dict[str, int]]:
    """Count one data problem of kind ``reason`` in the calling process.

    Shared by every robust data transform (image loading here, labels in
    :mod:`mnsp_mm.datasets.labels`), so one hook reports them all.

    Returns:
        ``(total, counts)`` of this process so far, for the transform's warning.
    """
    with _SKIP_LOCK:
        counts = _SKIP_COUNTS.setdefault(os.getpid(), Counter())
        counts[reason] += 1
        return sum(counts.values()), dict(counts)



def drain_skip_counts() -> Dict[str, int]:
    """The counts of this process since the previous call (``{}`` when nothing happened).

    Called by the collate wrapper of :mod:`mnsp_mm.engine.data_health` once per batch, in
    the process that built the batch (a dataloader worker or the main process), so every
    skip travels to the main process exactly once, inside the batch it affected.
    """
    pid = os.getpid()
    with _SKIP_LOCK:
        counts = _SKIP_COUNTS.get(pid)
        if not counts:
            return {}
        drained = _SKIP_DRAINED.setdefault(pid, Counter())
        delta = {k: v - drained[k] for k, v in counts.items() if v > drained[k]}
        drained.update(delta)
        return delta


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


# ----------------------------------------------------------------------- decoding
def _jpeg_missing_eoi(buf: bytes) -> bool:
    """True for a JPEG whose data does not end with the EOI marker ``FF D9``.

    libjpeg (hence cv2 / mmcv.imfrombytes) silently decodes a truncated JPEG, filling the
    missing part with grey and only printing a warning to stderr, so truncation has to be
    detected by hand. Trailing NUL/whitespace padding is tolerated; a file that fails this
    cheap test is re-decoded strictly with PIL (which accepts data appended after EOI).
    """
    if not buf.startswith(b'\xff\xd8'):
        return False
    return not buf[-256:].rstrip(b'\x00\r\n\t ').endswith(b'\xff\xd9')


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale an integer/float array of any depth to ``uint8``."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    arr = arr.astype(np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return ((arr - lo) * (255.0 / (hi - lo))).round().astype(np.uint8)


def _decode_pil(buf: bytes, ignore_orientation: bool) -> np.ndarray:
    """Strict PIL decoding to a BGR ``(H, W, 3)`` uint8 array (fallback for cv2).

    Handles what cv2 cannot or does wrongly: Adobe (inverted) CMYK JPEGs, exotic PNG/TIFF
    modes, and truncated files (raised as errors instead of grey filling).

    Raises:
        _BadImage: ``'truncated'`` or ``'undecodable'``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(buf)) as im:
            im.load()
            if not ignore_orientation:
                im = ImageOps.exif_transpose(im)
            if im.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'I;16N', 'F'):
                gray = _to_uint8(np.asarray(im))
                rgb = np.repeat(gray[..., None], 3, axis=2)
            else:
                # Drops alpha (RGBA/LA/PA), expands palette/gray, converts CMYK/YCbCr/LAB.
                rgb = np.asarray(im.convert('RGB'))
    except UnidentifiedImageError as e:
        # (PIL's message only repeats the BytesIO repr)
        raise _BadImage('undecodable', 'not a recognised image format') from e
    except Image.DecompressionBombError as e:
        raise _BadImage('too_large', f'PIL: {e}') from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        reason = 'truncated' if 'truncated' in str(e).lower() else 'undecodable'
        raise _BadImage(reason, f'PIL: {e}') from e
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)


def _header_size(buf: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from the image header, without decoding (``None``: unknown format).

    Raises:
        _BadImage: ``'too_large'`` if PIL's own bomb guard refuses the header already.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(buf)) as im:  # lazy: reads the header only
                return im.size
    except Image.DecompressionBombError as e:
        raise _BadImage('too_large', f'PIL: {e}') from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None  # not for PIL: cv2 may still know it, or the decode reports the error


def decode_text_image(buf: bytes, channel_order: str = 'rgb',
                      ignore_orientation: bool = False,
                      max_pixels: Optional[int] = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes to an ``(H, W, 3)`` uint8 array.

    Grayscale is expanded to 3 channels, alpha is dropped, 16-bit images are scaled to
    8 bit, CMYK JPEGs are converted; EXIF orientation is applied unless
    ``ignore_orientation``.

    Args:
        buf (bytes): Encoded image (JPEG, PNG, BMP, WebP, TIFF, ...).
        channel_order (str): ``'rgb'`` or ``'bgr'``. Defaults to ``'rgb'``.
        ignore_orientation (bool): Do not apply EXIF orientation. Defaults to False.
        max_pixels (int, optional): Refuse images whose header declares more pixels, before
            decoding (``cv2.imdecode`` has no cap of its own below 2^30). ``None``: no cap.

    Returns:
        np.ndarray: Contiguous array of shape ``(H, W, 3)``, dtype ``uint8``.

    Raises:
        _BadImage: With reason ``'empty'``, ``'truncated'``, ``'undecodable'``,
            ``'zero_size'`` or ``'too_large'``.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if len(buf) == 0:
        raise _BadImage('empty', 'zero-byte image')
    size = _header_size(buf) if max_pixels is not None else None
    if size is not None and size[0] * size[1] > max_pixels:
        raise _BadImage('too_large', f'header declares {size[0]}x{size[1]} = '
                                     f'{size[0] * size[1]} pixels > max_pixels={max_pixels}')
    img = None
    if not _jpeg_missing_eoi(buf):
        # Same call mmcv.imfrombytes(backend='cv2', flag='color') makes, done directly
        # because mmcv raises an opaque cv2.error on undecodable data instead of returning
        # None, and we need the None to fall back to PIL. IMREAD_COLOR already expands
        # gray, drops alpha and converts 16-bit to 8-bit.
        flags = cv2.IMREAD_COLOR
        if ignore_orientation:
            flags |= cv2.IMREAD_IGNORE_ORIENTATION
        try:
            img = cv2.imdecode(np.frombuffer(buf, np.uint8), flags)
        except cv2.error:
            img = None
    if img is None:
        img = _decode_pil(buf, ignore_orientation)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    img = _to_uint8(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise _BadImage('undecodable', f'unexpected decoded shape {img.shape}')
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise _BadImage('zero_size', f'image has a zero dimension {img.shape[:2]}')
    if channel_order == 'rgb':
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # new contiguous array (no neg. strides)
    return np.ascontiguousarray(img)


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
        with _SKIP_LOCK:
            return dict(_SKIP_COUNTS.get(os.getpid(), {}))

    @staticmethod
    def total_skipped() -> int:
        """Total number of skips in the calling process."""
        return sum(LoadTextImage.skipped().values())

    @staticmethod
    def reset_skipped() -> None:
        """Reset the skip counters of the calling process."""
        with _SKIP_LOCK:
            _SKIP_COUNTS.pop(os.getpid(), None)
            _SKIP_DRAINED.pop(os.getpid(), None)

    # ------------------------------------------------------------- loading
    def _read_bytes(self, results: dict) -> Tuple[str, bytes]:
        if results.get('lmdb_path') is not None:
            lmdb_path, key = results['lmdb_path'], results.get('lmdb_key')
            where = f'{lmdb_path}:{key}'
            if not key:
                raise _BadImage('missing', 'data info has lmdb_path but no lmdb_key')
            with get_lmdb_env(lmdb_path).begin(write=False) as txn:
                buf = txn.get(key.encode('ascii'))
            if buf is None:
                raise _BadImage('missing', f'key {key!r} not in LMDB')
            return where, bytes(buf)
        path = results.get('img_path')
        if path is None:
            raise KeyError('LoadTextImage needs "img_path" or "lmdb_path"+"lmdb_key" in the '
                           f'data info, got keys {sorted(results)}')
        try:
            # mmengine.fileio handles local and remote backends uniformly.
            return path, fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise _BadImage('missing', 'file not found') from e
        except OSError as e:  # a directory, no permission, I/O error, ...
            raise _BadImage('missing', f'cannot read file: {e}') from e

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
                raise _BadImage('too_small',
                                f'shape {img.shape[:2]} below min_size={self.min_size}')
        except _BadImage as bad:
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
