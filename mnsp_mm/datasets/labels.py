"""Label checks for fine-tuning: empty, over-long and out-of-dictionary labels.

:class:`FilterTextLabel` runs after MMOCR's ``LoadOCRAnnotations`` in the fine-tuning
pipeline. What it does with each kind of bad label (all counted, see
:mod:`mnsp_mm.engine.data_health`, and warned about):

==========================  ==========================================================
empty label                 skipped (reason ``label_empty``)
longer than ``max_len``     skipped (``long_label='skip'``, default) or cut to
                            ``max_len`` characters (``'truncate'``); reason
                            ``label_too_long``
characters outside the      kept, the characters become ``<UKN>`` (the dictionary has
dictionary                  ``with_unknown=True``; MMOCR's ``Dictionary`` maps them);
                            skipped when the dictionary has no unknown token. Reason
                            ``label_unknown_chars``
==========================  ==========================================================

A skipped sample makes the pipeline return ``None``: mmengine's ``BaseDataset`` then draws
another one in training (and raises in ``test_mode``). ``fail_fast=True`` raises
:class:`TextLabelError` instead.
"""
import logging
import os
from typing import Optional

from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from ..registry import register_transform
from .transforms import count_skip

LONG_LABEL_POLICIES = ('skip', 'truncate')


class TextLabelError(ValueError):
    """A bad label under ``FilterTextLabel(fail_fast=True)``; names the image and the reason."""


def dictionary_chars(dictionary) -> set:
    """The characters a (built or config) MMOCR dictionary can encode, special tokens excluded."""
    if isinstance(dictionary, dict):
        from mmocr.registry import TASK_UTILS
        dictionary = TASK_UTILS.build(dictionary)
    specials = {dictionary.start_token, dictionary.end_token, dictionary.padding_token,
                dictionary.unknown_token}
    return {c for c in dictionary.dict if c not in specials}


@register_transform(scopes=('mmocr', ))
class FilterTextLabel(BaseTransform):
    """Skip or repair samples whose text label the recogniser cannot learn from.

    Required keys: ``gt_texts`` (from ``LoadOCRAnnotations(with_text=True)``).
    Modified keys: ``gt_texts`` (only with ``long_label='truncate'``).

    Args:
        dictionary: the recogniser's dictionary config (or a built ``Dictionary``), used to
            find out-of-dictionary characters and whether they can map to ``<UKN>``.
        max_len: longest label in characters; ``None`` means no limit. ``MnspRunner``
            fills ``None`` with ``model.decoder.max_seq_len - 1`` (room for the end token).
        long_label: ``'skip'`` or ``'truncate'`` labels longer than ``max_len``.
        fail_fast: raise :class:`TextLabelError` instead of skipping.
    """

    def __init__(self, dictionary, max_len: Optional[int] = None, long_label: str = 'skip',
                 fail_fast: bool = False):
        if long_label not in LONG_LABEL_POLICIES:
            raise ValueError(f'FilterTextLabel: long_label must be one of {LONG_LABEL_POLICIES}, '
                             f'got {long_label!r}')
        if max_len is not None and int(max_len) < 1:
            raise ValueError(f'FilterTextLabel: max_len must be >= 1 or None, got {max_len}')
        if isinstance(dictionary, dict):
            from mmocr.registry import TASK_UTILS
            dictionary = TASK_UTILS.build(dictionary)
        self.chars = dictionary_chars(dictionary)
        self.with_unknown = dictionary.unknown_idx is not None
        self.max_len = None if max_len is None else int(max_len)
        self.long_label, self.fail_fast = long_label, fail_fast

    def _problem(self, results: dict, reason: str, detail: str, skip: bool) -> Optional[dict]:
        where = results.get('img_path', '<no img_path>')
        if self.fail_fast:
            raise TextLabelError(f'bad label for {where!r} ({reason}: {detail})')
        total, counts = count_skip(reason)
        action = 'skipped' if skip else 'kept'
        print_log(f'FilterTextLabel: {action} {where!r} ({reason}: {detail}); {total} data '
                  f'problems so far in process {os.getpid()}: {counts}', logger='current',
                  level=logging.WARNING)
        return None if skip else results

    def transform(self, results: dict) -> Optional[dict]:
        """Check the label(s) of one sample.

        Returns:
            ``results`` (possibly with truncated labels), or ``None`` to skip the sample.
        """
        texts = results.get('gt_texts')
        if not texts or any(not t for t in texts):
            return self._problem(results, 'label_empty', 'empty text label', skip=True)
        if self.max_len is not None and any(len(t) > self.max_len for t in texts):
            longest = max(texts, key=len)
            detail = f'{len(longest)} characters > max_len={self.max_len}: {longest[:60]!r}'
            if self.long_label == 'skip':
                return self._problem(results, 'label_too_long', detail, skip=True)
            results['gt_texts'] = [t[:self.max_len] for t in texts]
            self._problem(results, 'label_too_long', detail + ' (truncated)', skip=False)
        unknown = sorted({c for t in results['gt_texts'] for c in t} - self.chars)
        if unknown:
            detail = f'characters {"".join(unknown)!r} not in the dictionary'
            if self.with_unknown:
                return self._problem(results, 'label_unknown_chars',
                                     detail + ' (mapped to <UKN>)', skip=False)
            return self._problem(results, 'label_unknown_chars', detail, skip=True)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_len={self.max_len}, '
                f'long_label={self.long_label!r}, with_unknown={self.with_unknown}, '
                f'fail_fast={self.fail_fast})')
