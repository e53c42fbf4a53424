"""Glyph geometry: draw a text's coverage layer, then curve, rotate, foreshorten and crop it.

Every function works on the glyphs' alpha (coverage) layer only, (h, w) uint8, so the glyph
mask goes through exactly the warps the image does.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

INK = 8  # alpha (0..255) above which a pixel counts as drawn when finding the text's box


def draw_alpha(text: str, font: ImageFont.FreeTypeFont, spacing: float,
                pad_y: int) -> np.ndarray:
    """Draw ``text`` in white on black, ``pad_y`` px of free rows above and below.

    Returns:
        (h, w) uint8 glyph coverage.
    """
    left, top, right, bottom = font.getbbox(text)
    width = right - left
    if spacing:  # letters are placed one by one, without kerning: room for their advances
        advances = [font.getlength(char) for char in text]
        width = max(width, sum(advances)) + spacing * (len(text) - 1)
    pad_x = font.size // 4 + 2  # room for italic overhang past the last advance
    canvas = Image.new('L', (int(width) + 2 * pad_x, int(bottom - top) + 2 * pad_y), 0)
    draw = ImageDraw.Draw(canvas)
    x, y = pad_x - left, pad_y - top
    if spacing:
        # Pillow has no letter-spacing option: place the letters one by one.
        for char, advance in zip(text, advances):
            draw.text((x, y), char, font=font, fill=255)
            x += advance + spacing
    else:
        draw.text((x, y), text, font=font, fill=255)
    return np.asarray(canvas)


def curve(alpha: np.ndarray, amp: float, rng: np.random.Generator) -> np.ndarray:
    """Shift every column vertically by an arc or sine offset of amplitude ``amp`` px.

    Args:
        alpha: (h, w) uint8, with at least ``amp`` free rows above and below the glyphs.

    Returns:
        (h, w) uint8.
    """
    h, w = alpha.shape
    cols = np.flatnonzero(alpha.max(axis=0) > INK)
    u = (np.arange(w, dtype=np.float32) - cols[0]) / max(cols[-1] - cols[0], 1)
    if rng.random() < 0.5:
        dy = amp * (1 - (2 * u - 1) ** 2) * rng.choice([-1, 1])
    else:
        dy = amp * np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * u + rng.uniform(0, 2 * np.pi))
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
    map_y = np.arange(h, dtype=np.float32)[:, None] + dy.astype(np.float32)
    return cv2.remap(alpha, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _foreshorten(corners: np.ndarray, shrink: float, rng: np.random.Generator) -> np.ndarray:
    """Corners of the canvas seen at an angle: one edge (the far one) shortened by ``shrink``
    (a fraction) about its middle; a left or right edge three times out of four, else the top
    or bottom edge, by half as much since text boxes are wide.

    Args:
        corners: (4, 2) float32 top-left, top-right, bottom-right, bottom-left.

    Returns:
        (4, 2) float32.
    """
    (w, h), out = corners[2], corners.copy()
    if rng.random() < 0.75:
        ends = (0, 3) if rng.random() < 0.5 else (1, 2)  # left or right edge
        out[ends, 1] += np.float32([1, -1]) * shrink * h / 2
    else:
        ends = (0, 1) if rng.random() < 0.5 else (3, 2)  # top or bottom edge
        out[ends, 0] += np.float32([1, -1]) * shrink * w / 4
    return out


def rotate_and_tilt(alpha: np.ndarray, angle: float, shrink: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Rotate by ``angle`` degrees and foreshorten by ``shrink`` (perspective, see
    :func:`_foreshorten`) as one homography, onto a canvas that keeps every pixel.

    Returns:
        (h', w') uint8.
    """
    h, w = alpha.shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    tilted = _foreshorten(corners, shrink, rng) if shrink else corners
    homography = np.eye(3)
    homography[:2] = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    homography = homography @ cv2.getPerspectiveTransform(corners, tilted)
    moved = cv2.perspectiveTransform(corners[None], homography)[0]
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    homography = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]]) @ homography
    out_size = tuple(int(v) + 1 for v in np.ceil(hi - lo))
    return cv2.warpPerspective(alpha, homography, out_size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def tight_crop(alpha: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """Crop to the glyphs' box grown by ``margins`` px (top, bottom, left, right).

    Returns:
        (h', w') uint8; parts of the box outside ``alpha`` are 0.
    """
    rows = np.flatnonzero(alpha.max(axis=1) > INK)
    cols = np.flatnonzero(alpha.max(axis=0) > INK)
    if not rows.size:
        raise RuntimeError('the text left no ink on the canvas')
    top, bottom, left, right = np.round(margins).astype(int)
    y0, y1 = rows[0] - top, rows[-1] + 1 + bottom
    x0, x1 = cols[0] - left, cols[-1] + 1 + right
    pad = max(0, -y0, -x0, y1 - alpha.shape[0], x1 - alpha.shape[1])
    if pad:
        alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return alpha[y0 + pad:y1 + pad, x0 + pad:x1 + pad]


def resize(img: np.ndarray, size: Tuple[int, int], interpolation: Optional[int] = None
            ) -> np.ndarray:
    """``cv2.resize`` to ``size`` = (w, h); area averaging when shrinking both axes."""
    if interpolation is None:
        shrink = img.shape[1] >= size[0] and img.shape[0] >= size[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interpolation)

