"""Synthetic scene-text crops: the project's built-in default data.

One ``numpy.random.Generator`` drives every choice of :func:`render_sample`:

1. :func:`random_text` draws a "word" (dictionary word, digit string, word with symbols,
   compound word or random characters) whose characters all lie in :data:`CHARSET`, the
   90 characters of MMOCR's ``dicts/english_digits_symbols.txt``.
2. A font with proper glyphs for every character of the word is chosen (matplotlib's bundled
   TrueType fonts and Pillow's built-in scalable font) and the word is drawn white on black
   at a large size (``font_size`` px). That coverage layer is the glyphs' alpha.
3. Geometric warps act on the alpha layer: per-column curvature (``cv2.remap``), then
   rotation and perspective as one homography (``cv2.warpPerspective``).
4. The layer is cropped tightly around the glyphs plus a random margin and resized to
   ``(height, width)``, optionally through a small intermediate size (``low_res``).
5. The RGB crop is composed as ``bg * (1 - alpha) + fg * alpha`` over a flat, gradient or
   noise background, then blurred and noised.

The glyph mask is ``alpha >= mask_threshold`` of the final alpha. The image was composed from
that very layer, so the mask went through exactly the image's warps and resizes: it is the
"text rendered a second time in white on a black canvas", rendered once and shared.

Sample ``i`` of a data set with seed ``s`` is ``render_sample((s, i), cfg)``: it does not depend
on the other samples, so parallel, sharded or resumed rendering gives identical bytes.

Example::

    from mnsp_mm.datasets.synth import preset, render_dataset, render_sample
    sample = render_sample(0, preset('curved'))   # .image (32, 128, 3), .mask (32, 128)
    render_dataset('data/synth', num=2000, seed=0, fmt=('json', 'lmdb'), masks=True)

This module imports only numpy, Pillow, OpenCV and lmdb, so it can run without the
OpenMMLab stack.
"""
import functools
import importlib.util
import json
import multiprocessing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, Iterator, Mapping, Optional, Sequence, Tuple, Union

import cv2
import lmdb
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# MMOCR's dicts/english_digits_symbols.txt, in its order (it has no space, ^, {, | or }).
CHARSET = ('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
           '!"#$%&\'()*+,-./:;<=>?@[\\]_`~')

_WORDS = tuple("""
a about above across act add after again against age ago air all almost alone along already
also always am among an and animal another answer any anything apple area arm around art as
ask at away baby back bad bag ball bank bar base be bear beautiful because bed been before
began begin behind being believe below best better between big bird black blue board boat
body book both box boy bread break bridge bring brother brown build bus business but buy by
call came can car card care carry case cat cause center certain chair change check child city
class clean clear close club coffee cold color come common company complete control cook cool
corner cost could country course cover cross cup cut dance dark day dead deal deep design
develop did different dinner direct do doctor does dog dollar done door down draw dream dress
drink drive drop dry during each early earth east easy eat edge education effect egg eight
either electric else end energy enjoy enough enter entrance even evening event ever every exit
example express eye face fact fall family far farm fast father feel few field fight fill film
final find fine fire first fish five floor flower fly follow food foot for force forest form
four free fresh friend from front fruit full fun game garden gas gate general get gift girl
give glass go gold good great green ground group grow guide hair half hall hand happy hard
have he head health hear heart heat help her here high hill him his history hold home hope
horse hospital hot hotel hour house how however human hundred idea if important in inside
into island it job join just keep key kind king kitchen know lady lake land language large
last late later laugh law lead learn leave left less letter level library life light like
line lion list listen little live local long look lost love low machine made magic main make
man many map mark market may me meet member men middle might mile milk mind minute miss money
month moon more morning most mother mountain move much music must my name nation natural near
need never new news next nice night nine no north not note nothing now number of off office
often oil old on once one only open or order other our out over own page paint paper park
part party pass past pay peace people person phone picture piece place plan plant play please
point police pool poor post power present price problem public pull push put queen question
quick quiet radio rain read ready real red remember rest restaurant rich right river road rock
room round rule run safe sale salt same save school science sea season seat second see sell
send service set seven shall she ship shop short should show side sign simple since sing sister
sit six size sky sleep slow small smile snow so soft some son song soon sound south space speak
special speed sport spring square stand star start station stay step still stone stop store
story street strong student study summer sun super support sure sweet swim system table take
talk taxi tea teacher team tell ten test than thank that the their them then there these they
thing think third this those three through time to today together told tomorrow too top total
tour town toy trade traffic train travel tree trip true try turn two under until up upon us
use usual valley very view village visit voice wait walk wall want war warm was watch water
way we weather week welcome well west what wheel when where which while white who whole why
wide wild will win wind window winter wish with without woman wonder wood word work world would
write year yellow yes yet you young your zero zone
international information development environment government understanding restaurant
university technology management communication experience opportunity responsibility
""".split())

_CONTRACTIONS = ("it's", "don't", "can't", "i'm", "we're", "you'll", "won't", "isn't",
                 "let's", "o'clock", "that's", "they've", "she'd", "rock'n'roll")

# Each template is filled by _symbol_word with the keys below (w/v words, W/V capitalised).
_SYMBOL_TEMPLATES = (
    "{c}", "{w}'s", "${i}.{cents:02d}", "{i}%", "#{d}", "{w}-{v}", "{h}:{cents:02d}",
    "{d}/{m}/{y}", "{w}@{v}.com", "www.{w}.{tld}", "({w})", "{w}{p}", '"{W}"', "{W}&{V}",
    "{i}+{d}={j}", "{k3}-{k4}", "{w}_{v}", "[{w}]", "<{W}>", "*{w}*", "~{w}", "@{w}",
    "{W}\\{V}", "`{w}`", "{w}/{v}", "{i}x{d}", "{w}.{tld}", "{d},{k3}", "No.{d}", "{W}?!",
    "{w};", "e-{w}", "{i}.{d}kg", "-{i}", "{d}'{m}\"",
)
_TLDS = ('com', 'org', 'net', 'io', 'uk', 'de')


@dataclass(frozen=True)
class _FontSpec:
    """A font: ``file`` in matplotlib's ttf dir (``None``: Pillow's built-in font), and the
    characters of :data:`CHARSET` it draws as some other glyph."""
    name: str
    file: Optional[str]
    wrong: str = ''


# Computer Modern (BaKoMa) fonts use TeX's OT1 layout: at these ASCII code points they hold
# other glyphs (cmr10 draws '"' as a closing quote, '<' as an inverted '!', '_' as a dot...).
_OT1_WRONG = '"<>\\_`~'
_FONTS = (
    _FontSpec('DejaVuSans', 'DejaVuSans.ttf'),
    _FontSpec('DejaVuSans-Bold', 'DejaVuSans-Bold.ttf'),
    _FontSpec('DejaVuSans-Oblique', 'DejaVuSans-Oblique.ttf'),
    _FontSpec('DejaVuSerif', 'DejaVuSerif.ttf'),
    _FontSpec('DejaVuSerif-Bold', 'DejaVuSerif-Bold.ttf'),
    _FontSpec('DejaVuSerif-Italic', 'DejaVuSerif-Italic.ttf'),
    _FontSpec('DejaVuSansMono', 'DejaVuSansMono.ttf'),
    _FontSpec('DejaVuSansMono-Bold', 'DejaVuSansMono-Bold.ttf'),
    _FontSpec('STIXGeneral', 'STIXGeneral.ttf'),
    _FontSpec('STIXGeneralBol', 'STIXGeneralBol.ttf'),
    _FontSpec('PillowDefault', None),
    _FontSpec('cmr10', 'cmr10.ttf', _OT1_WRONG),
    _FontSpec('cmb10', 'cmb10.ttf', _OT1_WRONG),
    _FontSpec('cmss10', 'cmss10.ttf', _OT1_WRONG),
    _FontSpec('cmtt10', 'cmtt10.ttf', '`'),
    _FontSpec('STIXGeneralItalic', 'STIXGeneralItalic.ttf'),
    _FontSpec('STIXGeneralBolIta', 'STIXGeneralBolIta.ttf'),
    _FontSpec('DejaVuSans-BoldOblique', 'DejaVuSans-BoldOblique.ttf'),
    _FontSpec('DejaVuSerif-BoldItalic', 'DejaVuSerif-BoldItalic.ttf'),
    _FontSpec('DejaVuSansMono-BoldOblique', 'DejaVuSansMono-BoldOblique.ttf'),
)
FONT_NAMES = tuple(f.name for f in _FONTS)
COMMON_FONTS = FONT_NAMES[:11]
UNUSUAL_FONTS = FONT_NAMES[11:]
_FONT_BY_NAME = {f.name: f for f in _FONTS}

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luminance weights
_INK = 8  # alpha (0..255) above which a pixel counts as drawn when finding the text's box
_TEXT_TRIES = 20


@dataclass(frozen=True)
class SynthConfig:
    """Distribution of synthetic crops. Ranges are ``(min, max)``, sampled uniformly.

    Attributes:
        height: output height H of image and mask.
        width: output width W of image and mask.
        min_len: minimum text length in characters.
        max_len: maximum text length in characters.
        text_kinds: relative weights of the text generators: ``word`` (dictionary word in a
            random case), ``digits``, ``symbol`` (word or number with punctuation),
            ``compound`` (words joined, for long texts) and ``random`` (random characters).
        lowercase: lower-case every label (and so the drawn text): the 36-symbol alphabet
            most STR benchmarks score on; a small recogniser learns it far sooner.
        fonts: names from :data:`FONT_NAMES` to draw with; empty means all installed ones.
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
    lowercase: bool = False
    fonts: Tuple[str, ...] = ()
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
        unknown = (set(self.text_kinds) - set(_TEXT_KINDS)) | (set(self.fonts) - set(FONT_NAMES))
        unknown |= set(self.backgrounds) - {'flat', 'gradient', 'noise'}
        if unknown:
            raise ValueError(f'unknown text kinds, fonts or backgrounds: {sorted(unknown)}')


@dataclass
class SynthSample:
    """One rendered crop.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        text: the label, characters from :data:`CHARSET`.
        mask: (H, W) uint8, 255 where glyphs cover the pixel, else 0.
        font: name of the font it was drawn with (one of :data:`FONT_NAMES`).
    """
    image: np.ndarray
    text: str
    mask: np.ndarray
    font: str


# ----------------------------------------------------------------------------- text

def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], np.float64)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def _word(rng: np.random.Generator) -> str:
    return _WORDS[rng.integers(len(_WORDS))]


def _random_case(rng: np.random.Generator, text: str) -> str:
    style = rng.choice(4, p=[0.45, 0.3, 0.2, 0.05])
    if style == 3:
        flips = rng.random(len(text)) < 0.5
        return ''.join(c.upper() if f else c for c, f in zip(text, flips))
    return (text, text.capitalize(), text.upper())[style]


def _dictionary_word(rng: np.random.Generator, cfg: SynthConfig) -> str:
    return _random_case(rng, _word(rng))


def _digits(rng: np.random.Generator, cfg: SynthConfig) -> str:
    return ''.join(map(str, rng.integers(0, 10, rng.integers(1, 9))))


def _symbol_word(rng: np.random.Generator, cfg: SynthConfig) -> str:
    ints = rng.integers([1, 1, 0, 1, 1, 1990, 0, 100, 1000], [1000, 32, 100, 13, 1000, 2031,
                                                               24, 1000, 10000])
    values = dict(zip(('i', 'd', 'cents', 'm', 'j', 'y', 'h', 'k3', 'k4'), ints.tolist()))
    w, v = _word(rng), _word(rng)
    values.update(w=w, v=v, W=w.capitalize(), V=v.capitalize(),
                  c=_CONTRACTIONS[rng.integers(len(_CONTRACTIONS))],
                  p='.,!?:;'[rng.integers(6)], tld=_TLDS[rng.integers(len(_TLDS))])
    return _SYMBOL_TEMPLATES[rng.integers(len(_SYMBOL_TEMPLATES))].format(**values)


def _compound(rng: np.random.Generator, cfg: SynthConfig) -> str:
    target = rng.integers(cfg.min_len, cfg.max_len + 1)
    sep = ('', '-', '.', '_', '/')[rng.integers(5)]
    camel = sep == '' or rng.random() < 0.3
    parts = []
    while len(sep.join(parts)) < target:
        word = _word(rng)
        parts.append(word.capitalize() if camel and parts else word)
    text = sep.join(parts)[:cfg.max_len].rstrip(sep)  # no separator dangling at the cut
    return text if camel else _random_case(rng, text)


def _random_chars(rng: np.random.Generator, cfg: SynthConfig) -> str:
    idx = rng.integers(0, len(CHARSET), rng.integers(cfg.min_len, cfg.max_len + 1))
    return ''.join(CHARSET[i] for i in idx)


_TEXT_KINDS = {'word': _dictionary_word, 'digits': _digits, 'symbol': _symbol_word,
               'compound': _compound, 'random': _random_chars}


TEXT_KINDS = tuple(_TEXT_KINDS)


def parse_text_kinds(text: str) -> Dict[str, float]:
    """``'word=0.85,digits=0.15'`` -> ``{'word': 0.85, 'digits': 0.15}`` (weights > 0).

    Raises:
        ValueError: naming the bad item (an unknown kind, a missing or non-positive weight).
    """
    kinds = {}
    for item in filter(None, (part.strip() for part in str(text).split(','))):
        kind, _, weight = item.partition('=')
        try:
            value = float(weight)
        except ValueError:
            value = float('nan')
        if kind not in _TEXT_KINDS or not value > 0:
            raise ValueError(f'text kinds: bad item {item!r} in {text!r}; expected KIND=WEIGHT '
                             f'with KIND in {TEXT_KINDS} and WEIGHT > 0')
        kinds[kind] = value
    if not kinds:
        raise ValueError(f'text kinds: none given in {text!r}')
    return kinds


def random_text(rng: np.random.Generator, cfg: SynthConfig) -> str:
    """Draw a label from ``cfg.text_kinds`` with ``cfg.min_len <= len <= cfg.max_len``.

    A generator whose text misses the length bounds is redrawn; after a few misses the
    text falls back to random characters of a length within the bounds.

    Returns:
        A string of characters from :data:`CHARSET` (no spaces).
    """
    for _ in range(_TEXT_TRIES):
        text = _TEXT_KINDS[_pick(rng, cfg.text_kinds)](rng, cfg)
        if cfg.min_len <= len(text) <= cfg.max_len:
            break
    else:
        text = _random_chars(rng, cfg)
    return text.lower() if cfg.lowercase else text


# ----------------------------------------------------------------------------- fonts

@functools.lru_cache(maxsize=None)
def _font_dir() -> Optional[Path]:
    # find_spec locates matplotlib's bundled fonts without importing matplotlib (or pyplot).
    spec = importlib.util.find_spec('matplotlib')
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / 'mpl-data' / 'fonts' / 'ttf'


def _installed(spec: _FontSpec) -> bool:
    if spec.file is None:  # Pillow built without FreeType only has a fixed-size bitmap font
        return isinstance(ImageFont.load_default(size=10), ImageFont.FreeTypeFont)
    return _font_dir() is not None and (_font_dir() / spec.file).is_file()


@functools.lru_cache(maxsize=None)
def available_fonts(names: Tuple[str, ...] = ()) -> Tuple[str, ...]:
    """Installed fonts among ``names`` (all of :data:`FONT_NAMES` when empty), in table order.

    Raises:
        RuntimeError: if none of them is installed.
    """
    wanted = set(names or FONT_NAMES)
    found = tuple(f.name for f in _FONTS if f.name in wanted and _installed(f))
    if not found:
        raise RuntimeError(f'none of the fonts {sorted(wanted)} is installed '
                           f'(matplotlib fonts looked up in {_font_dir()})')
    return found


@functools.lru_cache(maxsize=4096)
def _load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    spec = _FONT_BY_NAME[name]
    if spec.file is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(_font_dir() / spec.file), size)


def _pick_font(rng: np.random.Generator, text: str, cfg: SynthConfig) -> str:
    """A font of ``cfg.fonts`` drawing every character of ``text`` right; if there is none,
    one of all installed fonts that does (DejaVu and Pillow's font draw all of CHARSET)."""
    chars = set(text)
    for pool in (available_fonts(tuple(cfg.fonts)), available_fonts()):
        fits = [n for n in pool if not chars & set(_FONT_BY_NAME[n].wrong)]
        if fits:
            return fits[rng.integers(len(fits))]
    raise RuntimeError(f'no installed font draws {text!r}')


# ----------------------------------------------------------------------------- geometry

def _draw_alpha(text: str, font: ImageFont.FreeTypeFont, spacing: float,
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


def _curve(alpha: np.ndarray, amp: float, rng: np.random.Generator) -> np.ndarray:
    """Shift every column vertically by an arc or sine offset of amplitude ``amp`` px.

    Args:
        alpha: (h, w) uint8, with at least ``amp`` free rows above and below the glyphs.

    Returns:
        (h, w) uint8.
    """
    h, w = alpha.shape
    cols = np.flatnonzero(alpha.max(axis=0) > _INK)
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


def _rotate_and_tilt(alpha: np.ndarray, angle: float, shrink: float,
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


def _tight_crop(alpha: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """Crop to the glyphs' box grown by ``margins`` px (top, bottom, left, right).

    Returns:
        (h', w') uint8; parts of the box outside ``alpha`` are 0.
    """
    rows = np.flatnonzero(alpha.max(axis=1) > _INK)
    cols = np.flatnonzero(alpha.max(axis=0) > _INK)
    if not rows.size:
        raise RuntimeError('the text left no ink on the canvas')
    top, bottom, left, right = np.round(margins).astype(int)
    y0, y1 = rows[0] - top, rows[-1] + 1 + bottom
    x0, x1 = cols[0] - left, cols[-1] + 1 + right
    pad = max(0, -y0, -x0, y1 - alpha.shape[0], x1 - alpha.shape[1])
    if pad:
        alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return alpha[y0 + pad:y1 + pad, x0 + pad:x1 + pad]


def _resize(img: np.ndarray, size: Tuple[int, int], interpolation: Optional[int] = None
            ) -> np.ndarray:
    """``cv2.resize`` to ``size`` = (w, h); area averaging when shrinking both axes."""
    if interpolation is None:
        shrink = img.shape[1] >= size[0] and img.shape[0] >= size[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interpolation)


# ----------------------------------------------------------------------------- appearance

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


def _background(rng: np.random.Generator, cfg: SynthConfig, fg: np.ndarray, bg: np.ndarray,
                size: Tuple[int, int]) -> np.ndarray:
    """A flat, gradient or noise texture around colour ``bg``.

    Returns:
        (h, w, 3) float32 in 0..255, for ``size`` = (w, h).
    """
    w, h = size
    kind = _pick(rng, cfg.backgrounds)
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


def _compose(alpha_crop: np.ndarray, rng: np.random.Generator,
             cfg: SynthConfig) -> Tuple[np.ndarray, np.ndarray]:
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
    alpha = _resize(alpha_crop, work).astype(np.float32) / 255
    bg = _random_colours(rng, 1)[0]
    fg = _contrasting(rng, bg, cfg.min_contrast)
    background = _background(rng, cfg, fg, bg, work)
    image = background + alpha[..., None] * (fg - background)
    if work != out_size:
        interpolation = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC)[rng.integers(3)]
        image = _resize(image, out_size, interpolation)
        alpha = _resize(alpha, out_size, interpolation)
    return image, alpha


def _degrade(image: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
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
    text = random_text(rng, cfg)
    font_name = _pick_font(rng, text, cfg)
    size = int(rng.integers(cfg.font_size[0], cfg.font_size[1] + 1))
    font = _load_font(font_name, size)
    spacing = _chance(rng, cfg.p_spacing, cfg.spacing) * size
    curve = _chance(rng, cfg.p_curve, cfg.curve) * size
    alpha = _draw_alpha(text, font, spacing, pad_y=int(curve) + 2)
    if curve:
        alpha = _curve(alpha, curve, rng)
    angle = _chance(rng, cfg.p_rotate, cfg.rotate) * rng.choice([-1, 1])
    shrink = _chance(rng, cfg.p_perspective, cfg.perspective)
    if angle or shrink:
        alpha = _rotate_and_tilt(alpha, angle, shrink, rng)
    alpha = _tight_crop(alpha, rng.uniform(*cfg.margin, 4) * size)
    image, alpha = _compose(alpha, rng, cfg)
    mask = (alpha >= cfg.mask_threshold).astype(np.uint8) * 255
    return SynthSample(image=_degrade(image, rng, cfg), text=text, mask=mask, font=font_name)


# ----------------------------------------------------------------------------- presets

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
}


def preset(name: str) -> SynthConfig:
    """The named configuration: ``default`` (a mixture of everything), ``regular`` (clean,
    straight, common fonts) or ``regular`` with one factor forced: ``curved``, ``rotated``,
    ``perspective``, ``low_res``, ``long_words`` (12..25 characters), ``unusual_fonts``.

    Configs are frozen; derive variants with ``dataclasses.replace``.
    """
    if name not in PRESETS:
        raise ValueError(f'unknown preset {name!r}; choose from {sorted(PRESETS)}')
    return PRESETS[name]


# ----------------------------------------------------------------------------- writers

def encode_image(image: np.ndarray, ext: str = '.png') -> bytes:
    """Encode a (H, W, 3) RGB or (H, W) gray uint8 array as ``ext`` (``.png`` / ``.jpg``)."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f'could not encode an image as {ext}')
    return buf.tobytes()


class TextRecogJsonWriter:
    """Writes MMOCR's ``textrecog_{name}.json`` plus ``imgs/{name}/000000.png`` files.

    Entries are ``{"img_path": "imgs/train/000000.png", "instances": [{"text": ...}]}``
    (paths relative to ``out_dir``, MMOCR's ``data_root``), with ``"mask_path"`` when masks
    are written and ``"instances": []`` when unlabeled. The json is written by :meth:`close`.
    """

    def __init__(self, out_dir: Union[str, Path], name: str = 'train', labeled: bool = True,
                 masks: bool = False, image_ext: str = '.png'):
        self.out_dir, self.name = Path(out_dir), name
        self.labeled, self.masks, self.image_ext = labeled, masks, image_ext
        self.data_list = []
        (self.out_dir / 'imgs' / name).mkdir(parents=True, exist_ok=True)
        if masks:
            (self.out_dir / 'masks' / name).mkdir(parents=True, exist_ok=True)

    def add(self, sample: SynthSample) -> None:
        stem = f'{len(self.data_list):06d}'
        entry = {'img_path': f'imgs/{self.name}/{stem}{self.image_ext}',
                 'instances': [{'text': sample.text}] if self.labeled else []}
        (self.out_dir / entry['img_path']).write_bytes(encode_image(sample.image,
                                                                    self.image_ext))
        if self.masks:
            entry['mask_path'] = f'masks/{self.name}/{stem}.png'
            (self.out_dir / entry['mask_path']).write_bytes(encode_image(sample.mask))
        self.data_list.append(entry)

    def close(self) -> Path:
        path = self.out_dir / f'textrecog_{self.name}.json'
        meta = {'dataset_type': 'TextRecogDataset', 'task_name': 'textrecog'}
        path.write_text(json.dumps({'metainfo': meta, 'data_list': self.data_list}))
        return path


class LmdbWriter:
    """Writes the MMOCR / Union14M LMDB layout into the directory ``path``.

    Keys: ``num-samples`` (ascii int), ``image-%09d`` (encoded image, 1-based),
    ``label-%09d`` (utf-8 text, if labeled), ``mask-%09d`` (PNG, if masks). Anything already
    in the database is dropped. Writes are committed every ``commit_every`` samples; the map
    starts at ``map_size`` bytes and doubles whenever it is full.
    """

    def __init__(self, path: Union[str, Path], labeled: bool = True, masks: bool = False,
                 image_ext: str = '.png', map_size: int = 64 << 20, commit_every: int = 1000):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.labeled, self.masks, self.image_ext = labeled, masks, image_ext
        self.commit_every, self.count, self._pending = commit_every, 0, []
        self._env = lmdb.open(str(self.path), map_size=map_size)
        with self._env.begin(write=True) as txn:
            txn.drop(self._env.open_db(), delete=False)

    def add(self, sample: SynthSample) -> None:
        self.count += 1
        index = f'{self.count:09d}'
        self._pending.append((f'image-{index}', encode_image(sample.image, self.image_ext)))
        if self.labeled:
            self._pending.append((f'label-{index}', sample.text.encode('utf-8')))
        if self.masks:
            self._pending.append((f'mask-{index}', encode_image(sample.mask)))
        if self.count % self.commit_every == 0:
            self._commit()

    def _commit(self) -> None:
        while True:
            try:
                with self._env.begin(write=True) as txn:
                    for key, value in self._pending:
                        txn.put(key.encode('ascii'), value)
                break
            except lmdb.MapFullError:
                self._env.set_mapsize(self._env.info()['map_size'] * 2)
        self._pending.clear()

    def close(self) -> Path:
        self._pending.append(('num-samples', str(self.count).encode('ascii')))
        self._commit()
        self._env.close()
        return self.path


def write_textrecog_json(out_dir: Union[str, Path], samples: Iterable[SynthSample],
                         name: str = 'train', labeled: bool = True, masks: bool = False,
                         image_ext: str = '.png') -> Path:
    """Write ``samples`` as an MMOCR text recognition data set; see :class:`TextRecogJsonWriter`.

    Returns:
        Path of ``out_dir/textrecog_{name}.json``.
    """
    writer = TextRecogJsonWriter(out_dir, name, labeled, masks, image_ext)
    for sample in samples:
        writer.add(sample)
    return writer.close()


def write_lmdb(path: Union[str, Path], samples: Iterable[SynthSample], labeled: bool = True,
               masks: bool = False, image_ext: str = '.png') -> Path:
    """Write ``samples`` into an LMDB directory; see :class:`LmdbWriter`.

    Returns:
        ``path``.
    """
    writer = LmdbWriter(path, labeled, masks, image_ext)
    for sample in samples:
        writer.add(sample)
    return writer.close()


def write_dataset(out: Union[str, Path], samples: Iterable[SynthSample],
                  fmt: Union[str, Sequence[str]] = ('json',), labeled: bool = True,
                  masks: bool = False, name: str = 'train',
                  image_ext: str = '.png') -> Dict[str, Path]:
    """Write ``samples`` in one pass into every format of ``fmt``.

    ``json`` goes to ``out/textrecog_{name}.json`` + ``out/imgs/{name}/`` (+ ``out/masks/``),
    ``lmdb`` to the directory ``out/lmdb/{name}``.

    Returns:
        ``{format: path}`` of what was written.
    """
    fmt = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    if not fmt or set(fmt) - {'json', 'lmdb'}:
        raise ValueError(f"fmt must hold 'json' and/or 'lmdb', got {fmt}")
    writers = {}
    if 'json' in fmt:
        writers['json'] = TextRecogJsonWriter(out, name, labeled, masks, image_ext)
    if 'lmdb' in fmt:
        writers['lmdb'] = LmdbWriter(Path(out) / 'lmdb' / name, labeled, masks, image_ext)
    for sample in samples:
        for writer in writers.values():
            writer.add(sample)
    return {key: writer.close() for key, writer in writers.items()}


def _render_index(index: int, seed: int, cfg: SynthConfig) -> SynthSample:
    return render_sample((seed, index), cfg)


def render_pool(workers: int):
    """A process pool for :func:`iter_samples` (reuse one across data sets: starting one costs
    seconds). Workers come from a fork server: forking a parent that already runs
    torch/BLAS/OpenCV threads can deadlock its children. Use it as a context manager.
    """
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__])
    return context.Pool(workers, initializer=cv2.setNumThreads, initargs=(1,))


def iter_samples(num: int, seed: int, cfg: Optional[SynthConfig] = None,
                 workers: int = 1, pool=None) -> Iterator[SynthSample]:
    """Yield samples ``render_sample((seed, i), cfg)`` for ``i = 0 .. num - 1``, in order.

    Args:
        workers: processes to render in (a pool of them is started and closed here); the
            output does not depend on it.
        pool: a running :func:`render_pool` to render in instead (``workers`` is ignored).
    """
    job = functools.partial(_render_index, seed=seed, cfg=cfg or SynthConfig())
    if pool is not None:
        yield from pool.imap(job, range(num), chunksize=16)
    elif workers <= 1:
        yield from map(job, range(num))
    else:
        with render_pool(workers) as own:
            yield from own.imap(job, range(num), chunksize=16)


def render_dataset(out: Union[str, Path], num: int, seed: int,
                   cfg: Optional[SynthConfig] = None, fmt: Union[str, Sequence[str]] = ('json',),
                   labeled: bool = True, masks: bool = False, name: str = 'train',
                   workers: int = 1, image_ext: str = '.png') -> Dict[str, Path]:
    """Render ``num`` crops with ``seed`` and write them; see :func:`write_dataset`.

    Returns:
        ``{format: path}`` of what was written.
    """
    return write_dataset(out, iter_samples(num, seed, cfg, workers), fmt, labeled, masks,
                         name, image_ext)
