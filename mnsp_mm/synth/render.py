"""One synthetic scene-text crop from a seed: :func:`render_sample`.

One ``numpy.random.Generator`` drives every choice:

1. :func:`~.text.drawn_text` draws a "word" (vocabulary word, digit string, word with
   symbols, compound word or random characters) whose characters all lie in
   :data:`~.text.CHARSET`, the 90 characters of MMOCR's ``dicts/english_digits_symbols.txt``.
2. A font of the configured split with proper glyphs for every character is chosen
   (:mod:`~.fonts`) and the text is drawn white on black at a large size (``font_size`` px).
   That coverage layer is the glyphs' alpha.
3. Geometric warps act on the alpha layer (:mod:`~.geometry`): per-column curvature, then
   rotation and perspective as one homography.
4. The layer is cropped tightly around the glyphs plus a random margin and resized to
   ``(height, width)``, optionally through a small intermediate size (``low_res``).
5. The RGB crop is composed as ``bg * (1 - alpha) + fg * alpha`` over a flat, gradient or
   noise background, then blurred and noised (:mod:`~.appearance`).

The glyph mask is ``alpha >= mask_threshold`` of the final alpha. The image was composed from
that very layer, so the mask went through exactly the image's warps and resizes.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .appearance import compose, degrade
from .config import SynthConfig
from .fonts import load_font, pick_font
from .geometry import curve, draw_alpha, rotate_and_tilt, tight_crop
from .text import drawn_text, label_of


@dataclass
class SynthSample:
    """One rendered crop.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        text: the label, characters from :data:`~.text.CHARSET` (lower case when the config
            folds labels).
        mask: (H, W) uint8, 255 where glyphs cover the pixel, else 0.
        font: name of the font it was drawn with (one of :func:`~.fonts.font_names`).
    """
    image: np.ndarray
    text: str
    mask: np.ndarray
    font: str


def _chance(rng: np.random.Generator, p: float, value_range: Tuple[float, float]) -> float:
    """``uniform(*value_range)`` with probability ``p``, else 0."""
    return rng.uniform(*value_range) if rng.random() < p else 0.0


def render_sample(seed: Union[int, Sequence[int], np.random.Generator],
                  cfg: Optional[SynthConfig] = None) -> SynthSample:
    """Render one synthetic text crop.

    Args:
        seed: anything ``numpy.random.default_rng`` takes. Sample ``i`` of a data set with
            seed ``s`` uses ``(s, i)``. A Generator is used (and advanced) as it is.
        cfg: the distribution; ``SynthConfig()`` (= ``preset('default')``) when None.

    Returns:
        :class:`SynthSample` with a (H, W, 3) uint8 RGB image and a (H, W) uint8 mask.
    """
    cfg = cfg or SynthConfig()
    rng = np.random.default_rng(seed)
    text = drawn_text(rng, cfg)
    font_name = pick_font(rng, text, cfg)
    size = int(rng.integers(cfg.font_size[0], cfg.font_size[1] + 1))
    font = load_font(font_name, size)
    spacing = _chance(rng, cfg.p_spacing, cfg.spacing) * size
    amp = _chance(rng, cfg.p_curve, cfg.curve) * size
    alpha = draw_alpha(text, font, spacing, pad_y=int(amp) + 2)
    if amp:
        alpha = curve(alpha, amp, rng)
    angle = _chance(rng, cfg.p_rotate, cfg.rotate) * rng.choice([-1, 1])
    shrink = _chance(rng, cfg.p_perspective, cfg.perspective)
    if angle or shrink:
        alpha = rotate_and_tilt(alpha, angle, shrink, rng)
    alpha = tight_crop(alpha, rng.uniform(*cfg.margin, 4) * size)
    image, alpha = compose(alpha, rng, cfg)
    mask = (alpha >= cfg.mask_threshold).astype(np.uint8) * 255
    return SynthSample(image=degrade(image, rng, cfg), text=label_of(text, cfg), mask=mask,
                       font=font_name)
