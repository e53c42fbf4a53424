"""The fonts the renderer draws with, and their split into training and held-out fonts.

Two sources:

- **bundled**: matplotlib's TrueType fonts and Pillow's built-in scalable font (always there
  with the pinned stack; always ``train``; :data:`COMMON_FONTS`, :data:`UNUSUAL_FONTS`);
- **system**: every ``.ttf`` / ``.otf`` under :data:`FONT_DIRS` (``tools/setup_env.sh``
  installs several dozen Debian font packages) that maps all 62 letters and digits to glyphs.
  Symbol and dingbat faces, which map ASCII code points to other shapes, are left out by name.

A system font's split comes from a SHA-1 hash of its **family** name (a bundled font's family
is always ``train``): about
:data:`HELDOUT_PERCENT` percent of the families are ``heldout``, never drawn in training or
pretraining crops and kept for the held-out-fonts test set. Splitting by family, not by file,
keeps a family's bold or italic face from leaking a held-out design into training.
"""
import functools
import hashlib
import importlib.util
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import ImageFont

from .text import ALNUM, CHARSET

FONT_DIRS = ('/usr/share/fonts', '/usr/local/share/fonts', '~/.local/share/fonts')
HELDOUT_PERCENT = 20
FONT_SPLITS = ('train', 'heldout', 'all')
# Faces that put other shapes (Greek, dingbats, icons, math alphabets) at ASCII code points.
_NOT_TEXT = re.compile(r'symbol|dingbat|d050000l|emoji|icon|awesome|math|music|ornament',
                       re.IGNORECASE)


@dataclass(frozen=True)
class FontSpec:
    """A font the renderer can draw with.

    Attributes:
        name: unique name (the file's stem; ``PillowDefault`` for Pillow's built-in font).
        path: the font file, or None for Pillow's built-in font.
        family: the family name in the font's name table.
        split: ``train`` or ``heldout``.
        wrong: the characters of :data:`CHARSET` it lacks or draws as some other glyph.
    """
    name: str
    path: Optional[str]
    family: str
    split: str = 'train'
    wrong: str = ''


# Computer Modern (BaKoMa) fonts use TeX's OT1 layout: at these ASCII code points they hold
# other glyphs (cmr10 draws '"' as a closing quote, '<' as an inverted '!', '_' as a dot...).
_OT1_WRONG = '"<>\\_`~'
_BUNDLED = (  # (file stem, family, wrong); table order: COMMON_FONTS first
    ('DejaVuSans', 'DejaVu Sans', ''), ('DejaVuSans-Bold', 'DejaVu Sans', ''),
    ('DejaVuSans-Oblique', 'DejaVu Sans', ''), ('DejaVuSerif', 'DejaVu Serif', ''),
    ('DejaVuSerif-Bold', 'DejaVu Serif', ''), ('DejaVuSerif-Italic', 'DejaVu Serif', ''),
    ('DejaVuSansMono', 'DejaVu Sans Mono', ''), ('DejaVuSansMono-Bold', 'DejaVu Sans Mono', ''),
    ('STIXGeneral', 'STIXGeneral', ''), ('STIXGeneralBol', 'STIXGeneral', ''),
    ('PillowDefault', 'PillowDefault', ''),
    ('cmr10', 'cmr10', _OT1_WRONG), ('cmb10', 'cmb10', _OT1_WRONG),
    ('cmss10', 'cmss10', _OT1_WRONG), ('cmtt10', 'cmtt10', '`'),
    ('STIXGeneralItalic', 'STIXGeneral', ''), ('STIXGeneralBolIta', 'STIXGeneral', ''),
    ('DejaVuSans-BoldOblique', 'DejaVu Sans', ''),
    ('DejaVuSerif-BoldItalic', 'DejaVu Serif', ''),
    ('DejaVuSansMono-BoldOblique', 'DejaVu Sans Mono', ''),
)
BUNDLED_FONTS = tuple(name for name, _, _ in _BUNDLED)
_BUNDLED_FAMILIES = frozenset(family for _, family, _ in _BUNDLED)  # always train
COMMON_FONTS = BUNDLED_FONTS[:11]
UNUSUAL_FONTS = BUNDLED_FONTS[11:]


@functools.lru_cache(maxsize=None)
def _matplotlib_dir() -> Optional[Path]:
    # find_spec locates matplotlib's bundled fonts without importing matplotlib (or pyplot).
    spec = importlib.util.find_spec('matplotlib')
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / 'mpl-data' / 'fonts' / 'ttf'


def family_split(family: str) -> str:
    """``'heldout'`` or ``'train'``: the split of a system font family, from its hash."""
    bucket = int(hashlib.sha1(family.encode('utf-8')).hexdigest()[:8], 16) % 100
    return 'heldout' if bucket < HELDOUT_PERCENT else 'train'


def _bundled() -> Dict[str, FontSpec]:
    fonts = {}
    for name, family, wrong in _BUNDLED:
        if name == 'PillowDefault':
            # Pillow built without FreeType only has a fixed-size bitmap font
            if isinstance(ImageFont.load_default(size=10), ImageFont.FreeTypeFont):
                fonts[name] = FontSpec(name, None, family, 'train', wrong)
        elif _matplotlib_dir() is not None and (_matplotlib_dir() / f'{name}.ttf').is_file():
            fonts[name] = FontSpec(name, str(_matplotlib_dir() / f'{name}.ttf'), family,
                                   'train', wrong)
    return fonts


def _system_font(path: Path) -> Optional[FontSpec]:
    """The spec of one font file, or None if it cannot draw every letter and digit."""
    from fontTools.ttLib import TTFont  # deferred: only the catalogue scan needs it
    logging.getLogger('fontTools').setLevel(logging.ERROR)  # quirks of valid fonts
    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
            names = font['name']
            family = (names.getDebugName(16) or names.getDebugName(1) or path.stem).strip()
        ImageFont.truetype(str(path), 20).getbbox('Ag0')  # FreeType can render it
    except Exception:  # noqa: BLE001  (a broken or unsupported file is simply not a candidate)
        return None
    if _NOT_TEXT.search(family) or _NOT_TEXT.search(path.stem):
        return None
    if any(ord(c) not in cmap for c in ALNUM):
        return None
    wrong = ''.join(c for c in CHARSET if ord(c) not in cmap)
    split = 'train' if family in _BUNDLED_FAMILIES else family_split(family)
    return FontSpec(path.stem, str(path), family, split, wrong)


def _font_dirs() -> Tuple[Path, ...]:
    dirs = os.environ.get('MNSP_FONT_DIRS')
    chosen = dirs.split(os.pathsep) if dirs is not None else FONT_DIRS
    return tuple(Path(d).expanduser() for d in chosen if d)


@functools.lru_cache(maxsize=None)
def font_catalogue() -> Dict[str, FontSpec]:
    """Every usable font by name: the bundled ones, then system fonts in path order.

    ``MNSP_FONT_DIRS`` (``os.pathsep``-separated; empty for none) replaces
    :data:`FONT_DIRS`. A system file whose stem repeats an earlier name is skipped.
    """
    fonts = _bundled()
    for directory in _font_dirs():
        if not directory.is_dir():
            continue
        for path in sorted(p for p in directory.rglob('*')
                           if p.suffix.lower() in ('.ttf', '.otf')):
            if path.stem not in fonts:
                spec = _system_font(path)
                if spec is not None:
                    fonts[spec.name] = spec
    return fonts


@functools.lru_cache(maxsize=None)
def font_names(split: str = 'all') -> Tuple[str, ...]:
    """Names of the usable fonts of ``split`` (``train``, ``heldout`` or ``all``).

    Raises:
        ValueError: naming an unknown split.
    """
    if split not in FONT_SPLITS:
        raise ValueError(f'font split {split!r} is not one of {FONT_SPLITS}')
    return tuple(n for n, f in font_catalogue().items() if split in ('all', f.split))


@functools.lru_cache(maxsize=None)
def available_fonts(names: Tuple[str, ...] = (), split: str = 'all') -> Tuple[str, ...]:
    """Installed fonts among ``names`` (every font of ``split`` when empty), in catalogue order.

    Raises:
        RuntimeError: if none of them is installed.
    """
    pool = font_names(split)
    wanted = set(names)
    found = tuple(n for n in pool if n in wanted) if names else pool
    if not found:
        raise RuntimeError(f'none of the fonts {sorted(names) or split!r} is installed '
                           f'(bundled fonts in {_matplotlib_dir()}, system fonts in '
                           f'{[str(d) for d in _font_dirs()]}; tools/setup_env.sh installs them)')
    return found


def unknown_fonts(names: Tuple[str, ...]) -> Tuple[str, ...]:
    """The names in ``names`` that are no font of the catalogue (bundled names need no scan)."""
    rest = set(names) - set(BUNDLED_FONTS)
    return tuple(sorted(rest - set(font_catalogue()))) if rest else ()


@functools.lru_cache(maxsize=4096)
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """The font ``name`` at ``size`` px (cached)."""
    spec = font_catalogue()[name]
    if spec.path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(spec.path, size)


def pick_font(rng: np.random.Generator, text: str, cfg) -> str:
    """A font of ``cfg`` (``cfg.fonts``, or all of ``cfg.font_split``) drawing every character
    of ``text`` right; if there is none, one of the same split that does.

    Raises:
        RuntimeError: if no font of the split draws ``text``.
    """
    chars, catalogue = set(text), font_catalogue()
    for pool in (available_fonts(tuple(cfg.fonts), cfg.font_split),
                 available_fonts((), cfg.font_split)):
        fits = [n for n in pool if not chars & set(catalogue[n].wrong)]
        if fits:
            return fits[rng.integers(len(fits))]
    raise RuntimeError(f'no installed font of split {cfg.font_split!r} draws {text!r}')


def font_split_record() -> Dict[str, Dict[str, list]]:
    """``{split: {family: [font names]}}`` of the installed catalogue, to record with data."""
    record: Dict[str, Dict[str, list]] = {'train': {}, 'heldout': {}}
    for spec in font_catalogue().values():
        record[spec.split].setdefault(spec.family, []).append(spec.name)
    return record
