"""Decoding text-crop image bytes robustly: any common format to (H, W, 3) uint8, or a reason.

Grayscale, alpha, 16-bit, CMYK, palette and EXIF-rotated images are converted; truncated,
undecodable, zero-sized and oversized (decompression bombs, read from the header first)
ones raise :class:`BadImage` with one of :data:`~.skip_counts.SKIP_REASONS`. The size
check reads the header of every format ``cv2.imdecode`` knows (:mod:`.image_header`).
"""
import io
from typing import Optional

import cv2
import numpy as np

from .image_header import HeaderTooLarge, header_size

#: Default cap on decoded pixels (``LoadTextImage(max_pixels=...)``): 2^25, e.g. 8192x4096,
#: far above any text crop, far below a decompression bomb (a 389 KB PNG of 20000x20000).
MAX_PIXELS = 1 << 25



class BadImage(Exception):
    """Decoding failed for ``reason`` (one of SKIP_REASONS)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


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
        BadImage: ``'truncated'`` or ``'undecodable'``.
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
        raise BadImage('undecodable', 'not a recognised image format') from e
    except Image.DecompressionBombError as e:
        raise BadImage('too_large', f'PIL: {e}') from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        reason = 'truncated' if 'truncated' in str(e).lower() else 'undecodable'
        raise BadImage(reason, f'PIL: {e}') from e
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)


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
        BadImage: With reason ``'empty'``, ``'truncated'``, ``'undecodable'``,
            ``'zero_size'`` or ``'too_large'``.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if len(buf) == 0:
        raise BadImage('empty', 'zero-byte image')
    try:  # every format cv2 decodes, PIL's and the ones only cv2 knows (Radiance HDR, ...)
        size = header_size(buf) if max_pixels is not None else None
    except HeaderTooLarge as e:
        raise BadImage('too_large', str(e)) from e
    if size is not None and size[0] * size[1] > max_pixels:
        raise BadImage('too_large', f'header declares {size[0]}x{size[1]} = '
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
        raise BadImage('undecodable', f'unexpected decoded shape {img.shape}')
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise BadImage('zero_size', f'image has a zero dimension {img.shape[:2]}')
    if channel_order == 'rgb':
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # new contiguous array (no neg. strides)
    return np.ascontiguousarray(img)


