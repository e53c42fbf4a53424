"""Datasets and transforms for pretraining on unlabeled text images.

Importing this package registers ``UnlabeledTextDataset``, ``LoadTextImage`` and
``TextGuidanceAug`` in the mmpretrain and mmocr registries.
"""
from .guidance import PRESETS, TextGuidanceAug
from .transforms import SKIP_REASONS, LoadTextImage, TextImageLoadError, decode_text_image
from .unlabeled import IMG_EXTENSIONS, UnlabeledTextDataset, detect_source_kind

__all__ = [
    'UnlabeledTextDataset', 'LoadTextImage', 'TextImageLoadError', 'decode_text_image',
    'detect_source_kind', 'IMG_EXTENSIONS', 'SKIP_REASONS', 'TextGuidanceAug', 'PRESETS'
]
