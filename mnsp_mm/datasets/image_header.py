"""Image dimensions from the header alone, for every format ``cv2.imdecode`` reads.

The decompression-bomb check (``LoadTextImage(max_pixels=...)``) must know an image's size
before anything decodes it. PIL reads the header of most formats lazily; OpenCV also
decodes formats PIL does not know: Radiance RGBE (``#?RADIANCE`` / ``#?RGBE``, ``.hdr``),
PAM (``P7``), PFM (``PF`` / ``Pf``) and OpenEXR (when ``OPENCV_IO_ENABLE_OPENEXR`` is set).
A constant-colour 8192x8192 RGBE image is 4.3 MB on disk and 805 MB as cv2's float
intermediate, so those headers are read here.

Why not OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``): the library reads it once, when
it is loaded, so it would have to be set before anything in each process imports ``cv2``
(mmcv, mmengine's visualiser and user code do, in any order; forked dataloader workers
inherit the value of the parent); it is one process-wide number, not the transform's
``max_pixels``; and when it refuses it raises a generic ``cv2.error``, indistinguishable
from corrupt data. Reading the header works the same in every process and names the size.
"""
import io
import re
import struct
import warnings
from typing import Optional, Tuple

Size = Tuple[int, int]


class HeaderTooLarge(Exception):
    """PIL's own bomb guard refused the header (``str(err)`` is PIL's message)."""


_RGBE_SIZE = re.compile(rb'([-+])([XY])\s+(\d+)\s+([-+])([XY])\s+(\d+)')


def _radiance(buf: bytes) -> Optional[Size]:
    """Radiance RGBE: text lines up to an empty one, then e.g. ``-Y 8192 +X 8192``."""
    end = buf.find(b'\n\n', 0, 1 << 16)
    if end < 0:
        return None
    match = _RGBE_SIZE.match(buf[end + 2:end + 2 + 64])
    if match is None or match.group(2) == match.group(5):
        return None
    dims = {match.group(2): int(match.group(3)), match.group(5): int(match.group(6))}
    return dims[b'X'], dims[b'Y']


def _tokens(buf: bytes, start: int, count: int) -> Optional[list]:
    """The first ``count`` whitespace-separated tokens after ``start``, ``#`` comments skipped."""
    text = re.sub(rb'#[^\n]*', b' ', buf[start:start + 4096])
    tokens = text.split()
    return tokens[:count] if len(tokens) >= count else None


def _pfm(buf: bytes) -> Optional[Size]:
    """PFM: ``PF`` (colour) or ``Pf`` (grey), then width and height in ASCII."""
    tokens = _tokens(buf, 2, 2)
    if tokens is None or not all(t.isdigit() for t in tokens):
        return None
    return int(tokens[0]), int(tokens[1])


def _pam(buf: bytes) -> Optional[Size]:
    """PAM: ``P7``, then ``KEY value`` lines (``WIDTH``, ``HEIGHT``, ...) up to ``ENDHDR``."""
    head = buf[:buf.find(b'ENDHDR', 0, 1 << 16)]
    width, height = re.search(rb'\nWIDTH\s+(\d+)', head), re.search(rb'\nHEIGHT\s+(\d+)', head)
    if width is None or height is None:
        return None
    return int(width.group(1)), int(height.group(1))


def _exr(buf: bytes) -> Optional[Size]:
    """OpenEXR: attributes ``name\\0type\\0size(int32)value``; ``dataWindow`` is a box2i."""
    pos = 8  # magic (4 bytes) and version (4)
    while pos < min(len(buf), 1 << 16):
        name_end = buf.find(b'\0', pos)
        if name_end < 0 or name_end == pos:  # an empty name ends the header
            return None
        type_end = buf.find(b'\0', name_end + 1)
        if type_end < 0 or type_end + 5 > len(buf):
            return None
        (size, ) = struct.unpack('<i', buf[type_end + 1:type_end + 5])
        value = buf[type_end + 5:type_end + 5 + size]
        if buf[pos:name_end] == b'dataWindow' and size == 16 and len(value) == 16:
            x0, y0, x1, y1 = struct.unpack('<4i', value)
            return x1 - x0 + 1, y1 - y0 + 1
        pos = type_end + 5 + max(size, 0)
    return None


#: Signatures of the formats cv2 decodes and PIL does not, and their header readers.
CV2_ONLY_FORMATS = (
    ((b'#?RADIANCE', b'#?RGBE'), _radiance),
    ((b'PF', b'Pf'), _pfm),
    ((b'P7', ), _pam),
    ((b'\x76\x2f\x31\x01', ), _exr),
)


def _pil(buf: bytes) -> Optional[Size]:
    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(buf)) as im:  # lazy: reads the header only
                return im.size
    except Image.DecompressionBombError as e:
        raise HeaderTooLarge(f'PIL: {e}') from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None  # not an image, or a broken header: the decode reports it


def header_size(buf: bytes) -> Optional[Size]:
    """``(width, height)`` from the image header, without decoding.

    Args:
        buf: encoded image bytes.

    Returns:
        The declared size, or ``None`` when no reader knows the format (then neither does
        ``cv2.imdecode``: every format it decodes is covered, see :data:`CV2_ONLY_FORMATS`).

    Raises:
        HeaderTooLarge: PIL's own bomb guard refused the header already.
    """
    for signatures, reader in CV2_ONLY_FORMATS:
        if buf.startswith(signatures):
            try:
                size = reader(buf)
            except (ValueError, struct.error):
                size = None
            if size is not None:
                return size
    return _pil(buf)
