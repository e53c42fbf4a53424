"""Datasets and transforms for pretraining on unlabeled text images.

Importing this package registers ``UnlabeledTextDataset``, ``LoadTextImage`` and
``TextGuidanceAug`` in the mmpretrain and mmocr registries, and the fine-tuning label
check ``FilterTextLabel``, the labeled ``LabeledLMDBDataset`` and ``CheckedOCRDataset``
(what ``MnspRunner`` builds for ``OCRDataset``) in the mmocr registry.
"""
from .checked_ocr import CheckedOCRDataset
from .guidance import PRESETS, TextGuidanceAug
from .labeled_lmdb import LabeledLMDBDataset
from .labels import FilterTextLabel, TextLabelError
from .transforms import (SKIP_REASONS, LoadTextImage, TextImageLoadError, count_skip,
                         decode_text_image, drain_skip_counts)
from .unlabeled import IMG_EXTENSIONS, UnlabeledTextDataset, detect_source_kind

__all__ = [
    'UnlabeledTextDataset', 'LoadTextImage', 'TextImageLoadError', 'decode_text_image',
    'detect_source_kind', 'IMG_EXTENSIONS', 'SKIP_REASONS', 'TextGuidanceAug', 'PRESETS',
    'FilterTextLabel', 'TextLabelError', 'count_skip', 'drain_skip_counts', 'LabeledLMDBDataset',
    'CheckedOCRDataset'
]
