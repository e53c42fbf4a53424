"""Synthetic scene-text crops: the project's built-in default data.

One module per part of the renderer, each importing only the ones above it:

- :mod:`.text`: character set, the ``wordfreq`` vocabulary and its train/test split, text kinds;
- :mod:`.fonts`: bundled and system fonts and their train/held-out split by family;
- :mod:`.geometry`: drawing the glyphs' alpha layer, curving, rotating, foreshortening, cropping;
- :mod:`.appearance`: colours, backgrounds, composition, blur and noise;
- :mod:`.config`: :class:`SynthConfig`, the distribution, and its presets;
- :mod:`.render`: :func:`render_sample`, one crop from a seed;
- :mod:`.writers`: MMOCR ``textrecog_*.json`` + PNGs and LMDB writers;
- :mod:`.pool`: rendering many crops, in order, in parallel, into files.

Example::

    from mnsp_mm.synth import preset, render_dataset, render_sample
    sample = render_sample(0, preset('curved'))   # .image (32, 128, 3), .mask (32, 128)
    render_dataset('data/synth', num=2000, seed=0, fmt=('json', 'lmdb'), masks=True)

The package imports only numpy, Pillow, OpenCV, lmdb, fontTools and wordfreq, so it runs
without the OpenMMLab stack.
"""
from .config import PRESETS, SynthConfig, preset
from .fonts import (BUNDLED_FONTS, COMMON_FONTS, FONT_SPLITS, UNUSUAL_FONTS, FontSpec,
                    available_fonts, font_catalogue, font_names, font_split_record)
from .pool import iter_samples, render_dataset, render_pool
from .render import SynthSample, render_sample
from .text import (CHARSET, LOWER_ALNUM, TEXT_KINDS, VOCAB_SPLITS, drawn_text,
                   parse_text_kinds, random_text, vocabulary, word_split)
from .writers import (LmdbWriter, TextRecogJsonWriter, encode_image, write_dataset, write_lmdb,
                      write_textrecog_json)

__all__ = [
    'CHARSET', 'LOWER_ALNUM', 'TEXT_KINDS', 'VOCAB_SPLITS', 'FONT_SPLITS', 'parse_text_kinds', 'drawn_text', 'random_text',
    'vocabulary', 'word_split', 'BUNDLED_FONTS', 'COMMON_FONTS', 'UNUSUAL_FONTS', 'FontSpec',
    'available_fonts', 'font_catalogue', 'font_names', 'font_split_record', 'SynthConfig',
    'PRESETS', 'preset', 'SynthSample', 'render_sample', 'encode_image',
    'TextRecogJsonWriter', 'LmdbWriter', 'write_textrecog_json', 'write_lmdb',
    'write_dataset', 'render_pool', 'iter_samples', 'render_dataset'
]
