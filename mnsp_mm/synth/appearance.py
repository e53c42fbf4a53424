"""Appearance: colours, backgrounds, composing the crop from its alpha layer, degradations."""
from typing import Tuple

import cv2
import numpy as np

from .geometry import resize
from .text import pick

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luminance weights


def _random_colours(rng: np.random.Generator, num: int) -> np.ndarray:
    """Uniform RGB colours pulled towards their gray by a random amount, since real scene
    text and backgrounds are seldom fully saturated.

    Returns:
        (num, 3) float32 in 0..255.
    """
    colours = rng.integers(0, 256, (num, 3)).astype(np.float32)
    gray = colours @ _LUMA
    return gray[:, None] + rng.random((num, 1), np.float32) * (colours - gray[:, None])


def _contrasting(rng: np.random.Generator, ref: np.ndarray, min_contrast: float,
                 side: int = 0) -> np.ndarray:
    """A random RGB colour whose luminance differs from ``ref``'s by >= ``min_contrast``.

    Args:
        side: 1 for a brighter colour, -1 for a darker one, 0 for either.

    Returns:
        (3,) float32.
    """
    candidates = _random_colours(rng, 64)
    delta = candidates @ _LUMA - ref @ _LUMA
    ok = np.flatnonzero((delta * side if side else np.abs(delta)) >= min_contrast)
    if ok.size:
        return candidates[ok[0]]
    brighter = side > 0 if side else ref @ _LUMA < 127.5
    return np.full(3, 255.0 if brighter else 0.0, np.float32)


def _background(rng: np.random.Generator, cfg, fg: np.ndarray, bg: np.ndarray,
                size: Tuple[int, int]) -> np.ndarray:
    """A flat, gradient or noise texture around colour ``bg``.

    Returns:
        (h, w, 3) float32 in 0..255, for ``size`` = (w, h).
    """
    w, h = size
    kind = pick(rng, cfg.backgrounds)
    if kind == 'flat':
        return np.broadcast_to(bg, (h, w, 3))
    if kind == 'gradient':
        # Same side of the text colour as bg, or the ramp would cross it and hide the text.
        other = _contrasting(rng, fg, cfg.min_contrast, 1 if bg @ _LUMA > fg @ _LUMA else -1)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.arange(w, dtype=np.float32)[None] * np.cos(angle) / w
                + np.arange(h, dtype=np.float32)[:, None] * np.sin(angle) / h)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        return bg + ramp[..., None] * (other - bg)
    grid = rng.standard_normal((rng.integers(2, 6), rng.integers(2, 12), 3), dtype=np.float32)
    field_ = cv2.resize(grid, size, interpolation=cv2.INTER_CUBIC)
    field_ /= max(float(np.abs(field_).max()), 1e-6)
    return np.clip(bg + rng.uniform(*cfg.texture_amp) * field_, 0, 255)


def compose(alpha_crop: np.ndarray, rng: np.random.Generator,
             cfg) -> Tuple[np.ndarray, np.ndarray]:
    """Resize the cropped alpha to the output size (maybe through a small size) and compose
    the coloured crop from it.

    Returns:
        ``(image, alpha)``: (H, W, 3) float32 in 0..255 and (H, W) float32 in 0..1.
    """
    out_size = (cfg.width, cfg.height)
    work = out_size
    if rng.random() < cfg.p_low_res:
        small_h = int(rng.integers(cfg.low_res_height[0], cfg.low_res_height[1] + 1))
        work = (max(1, round(cfg.width * small_h / cfg.height)), small_h)
    alpha = resize(alpha_crop, work).astype(np.float32) / 255
    bg = _random_colours(rng, 1)[0]
    fg = _contrasting(rng, bg, cfg.min_contrast)
    background = _background(rng, cfg, fg, bg, work)
    image = background + alpha[..., None] * (fg - background)
    if work != out_size:
        interpolation = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC)[rng.integers(3)]
        image = resize(image, out_size, interpolation)
        alpha = resize(alpha, out_size, interpolation)
    return image, alpha


def degrade(image: np.ndarray, rng: np.random.Generator, cfg) -> np.ndarray:
    """Gaussian blur and pixel noise.

    Args:
        image: (H, W, 3) float32 in 0..255.

    Returns:
        (H, W, 3) uint8.
    """
    if rng.random() < cfg.p_blur:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(*cfg.blur_sigma))
    if rng.random() < cfg.p_noise:
        image = image + rng.uniform(*cfg.noise_std) * rng.standard_normal(image.shape,
                                                                          np.float32)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)

