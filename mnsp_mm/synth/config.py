"""The distribution of synthetic crops (:class:`SynthConfig`) and its named presets."""
from dataclasses import dataclass, field, replace
from typing import Dict, Mapping, Tuple

from .fonts import COMMON_FONTS, FONT_SPLITS, UNUSUAL_FONTS, unknown_fonts
from .text import TEXT_KINDS, VOCAB_SPLITS


@dataclass(frozen=True)
class SynthConfig:
    """Distribution of synthetic crops. Ranges are ``(min, max)``, sampled uniformly.

    Attributes:
        height: output height H of image and mask.
        width: output width W of image and mask.
        min_len: minimum text length in characters.
        max_len: maximum text length in characters.
        text_kinds: relative weights of the text generators: ``word`` (vocabulary word in
            a random case), ``digits``, ``symbol`` (word or number with punctuation),
            ``compound`` (words joined, for long texts), ``random`` (random characters of
            :data:`~.text.CHARSET`), ``alnum`` (random letters and digits) and ``train_word``
            (a ``train`` vocabulary word whatever ``vocab`` says: the in-vocabulary share of
            a test set).
        vocab: the vocabulary split words come from: ``train`` (training and pretraining
            crops), ``test`` (held-out words, for out-of-vocabulary test sets) or ``all``.
        lowercase: lower-case the drawn text (and so the label).
        fold_labels: the label is the drawn text lower-cased: mixed case in the image,
            36-symbol labels (the alphabet most STR benchmarks score on).
        fonts: font names (:func:`~.fonts.font_names`) to draw with; empty means every
            font of ``font_split``.
        font_split: ``train`` (every crop a model learns from), ``heldout`` (fonts kept
            for the held-out-fonts test set) or ``all``.
        font_size: render size in px, before the crop is resized to ``(height, width)``.
        p_spacing: probability of extra letter spacing.
        spacing: letter spacing in font-size units.
        backgrounds: relative weights of ``flat``, ``gradient`` and ``noise`` backgrounds.
        min_contrast: minimum luminance difference (0..255) between text and background.
        texture_amp: amplitude (0..255) of the ``noise`` background texture.
        margin: crop margin around the glyphs, per side, in font-size units.
        p_rotate: probability of a rotation.
        rotate: absolute rotation angle in degrees (the sign is random).
        p_perspective: probability of a perspective warp.
        perspective: how much the far edge of the text is shortened, as a fraction of its
            length (a left or right edge; sometimes the top or bottom edge, half as much).
        p_curve: probability of curving the baseline (sine or arc offset per column).
        curve: amplitude of the column offsets in font-size units.
        p_low_res: probability of composing at a small size, then upscaling.
        low_res_height: height in px of that small size.
        p_blur: probability of a gaussian blur of the final image.
        blur_sigma: its sigma in output px.
        p_noise: probability of gaussian pixel noise.
        noise_std: its standard deviation (0..255).
        mask_threshold: glyph coverage (0..1) from which an output pixel is in the mask.
    """
    height: int = 32
    width: int = 128
    min_len: int = 1
    max_len: int = 25
    text_kinds: Mapping[str, float] = field(default_factory=lambda: {
        'word': 0.45, 'digits': 0.12, 'symbol': 0.23, 'compound': 0.1, 'random': 0.1})
    vocab: str = 'train'
    lowercase: bool = False
    fold_labels: bool = False
    fonts: Tuple[str, ...] = ()
    font_split: str = 'train'
    font_size: Tuple[int, int] = (28, 56)
    p_spacing: float = 0.1
    spacing: Tuple[float, float] = (0.05, 0.4)
    backgrounds: Mapping[str, float] = field(default_factory=lambda: {
        'flat': 0.4, 'gradient': 0.3, 'noise': 0.3})
    min_contrast: float = 90.0
    texture_amp: Tuple[float, float] = (8.0, 30.0)
    margin: Tuple[float, float] = (0.02, 0.2)
    p_rotate: float = 0.3
    rotate: Tuple[float, float] = (0.5, 4.0)
    p_perspective: float = 0.25
    perspective: Tuple[float, float] = (0.05, 0.3)
    p_curve: float = 0.2
    curve: Tuple[float, float] = (0.1, 0.35)
    p_low_res: float = 0.15
    low_res_height: Tuple[int, int] = (8, 16)
    p_blur: float = 0.3
    blur_sigma: Tuple[float, float] = (0.3, 1.0)
    p_noise: float = 0.5
    noise_std: Tuple[float, float] = (1.0, 8.0)
    mask_threshold: float = 0.35

    def __post_init__(self):
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(f'need 1 <= min_len <= max_len, got {self.min_len}, {self.max_len}')
        unknown = set(self.text_kinds) - set(TEXT_KINDS)
        unknown |= set(self.backgrounds) - {'flat', 'gradient', 'noise'}
        if unknown:
            raise ValueError(f'unknown text kinds or backgrounds: {sorted(unknown)}')
        if self.vocab not in VOCAB_SPLITS:
            raise ValueError(f'vocab={self.vocab!r} is not one of {VOCAB_SPLITS}')
        if self.font_split not in FONT_SPLITS:
            raise ValueError(f'font_split={self.font_split!r} is not one of {FONT_SPLITS}')
        if self.fonts and unknown_fonts(tuple(self.fonts)):
            raise ValueError(f'fonts: {list(unknown_fonts(tuple(self.fonts)))} are not '
                             'installed fonts (see mnsp_mm.synth.font_names())')


_REGULAR = SynthConfig(fonts=COMMON_FONTS, backgrounds={'flat': 0.5, 'gradient': 0.5},
                       p_rotate=0.0, p_perspective=0.0, p_curve=0.0, p_low_res=0.0,
                       p_blur=0.0, p_noise=0.3, noise_std=(1.0, 4.0))
PRESETS: Dict[str, SynthConfig] = {
    'default': SynthConfig(),
    'regular': _REGULAR,
    'curved': replace(_REGULAR, p_curve=1.0, curve=(0.3, 0.7)),
    'rotated': replace(_REGULAR, p_rotate=1.0, rotate=(5.0, 15.0)),
    'perspective': replace(_REGULAR, p_perspective=1.0, perspective=(0.25, 0.55)),
    'low_res': replace(_REGULAR, p_low_res=1.0, low_res_height=(7, 14)),
    'long_words': replace(_REGULAR, min_len=12, text_kinds={
        'compound': 0.6, 'symbol': 0.1, 'word': 0.1, 'random': 0.2}),
    'unusual_fonts': replace(_REGULAR, fonts=UNUSUAL_FONTS),
    'held_out_fonts': replace(_REGULAR, fonts=(), font_split='heldout'),
}


def preset(name: str) -> SynthConfig:
    """The named configuration: ``default`` (a mixture of everything), ``regular`` (clean,
    straight, common fonts) or ``regular`` with one factor forced: ``curved``, ``rotated``,
    ``perspective``, ``low_res``, ``long_words`` (12..25 characters), ``unusual_fonts``
    (Computer Modern, STIX and DejaVu italics) or ``held_out_fonts`` (every font of the
    ``heldout`` split, :mod:`~.fonts`).

    Configs are frozen; derive variants with ``dataclasses.replace``.
    """
    if name not in PRESETS:
        raise ValueError(f'unknown preset {name!r}; choose from {sorted(PRESETS)}')
    return PRESETS[name]
