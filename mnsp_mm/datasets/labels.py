"""Label checks for fine-tuning: malformed entries, empty, over-long and
out-of-dictionary labels.

:class:`FilterTextLabel` runs before MMOCR's ``LoadOCRAnnotations`` in the fine-tuning
pipeline, on the annotation entry itself (``instances``), so an entry that would crash
``LoadOCRAnnotations`` is skipped instead; placed after it, it checks ``gt_texts``. What it
does with each kind of bad label (all counted, see :mod:`mnsp_mm.engine.data_health`, and
warned about):

==========================  ==========================================================
no ``instances``, or none   skipped (reason ``label_no_instance``)
two or more instances       skipped (``label_many_instances``: a recognition crop has one)
no ``text`` or not a str    skipped (``label_not_text``, e.g. ``"text": 12345``)
not a dict, or no string    dropped when the dataset is built (``label_no_img_path``,
``img_path``                :class:`~.checked_ocr.CheckedOCRDataset`)
empty or whitespace only    skipped (reason ``label_empty``)
longer than ``max_len``     skipped (``long_label='skip'``, default) or cut to
(``ctc``: + repeats)        ``max_len`` characters (``'truncate'``); reason
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
from typing import Optional, Tuple

from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from ..registry import register_transform
from .skip_counts import count_skip

LONG_LABEL_POLICIES = ('skip', 'truncate')

#: Reasons :class:`FilterTextLabel` counts (after the image reasons in ``SKIP_REASONS``).
LABEL_REASONS = ('label_no_instance', 'label_many_instances', 'label_not_text', 'label_empty',
                 'label_too_long', 'label_unknown_chars', 'label_no_img_path')


class TextLabelError(ValueError):
    """A bad label under ``FilterTextLabel(fail_fast=True)``; names the image and the reason."""


def instance_problem(entry: dict) -> Optional[Tuple[str, str]]:
    """What is wrong with one textrecog annotation entry, if anything.

    Args:
        entry: an MMOCR textrecog data info, ``{'img_path': ..., 'instances': [{'text': ...}]}``.

    Returns:
        ``None`` for a usable entry, else ``(reason, detail)`` with a reason from
        :data:`LABEL_REASONS` (``label_no_instance``, ``label_many_instances``,
        ``label_not_text`` or ``label_empty``).
    """
    instances = entry.get('instances') if isinstance(entry, dict) else None
    if not isinstance(instances, list) or not instances:
        return 'label_no_instance', f'"instances" is {instances!r}, expected [{{"text": ...}}]'
    if len(instances) > 1:
        return 'label_many_instances', f'{len(instances)} instances, a text crop has one'
    text = instances[0].get('text') if isinstance(instances[0], dict) else None
    if not isinstance(text, str):
        what = 'no "text"' if text is None else f'"text" is {type(text).__name__} {text!r}'
        return 'label_not_text', f'{what}, expected a string'
    if not text.strip():
        return 'label_empty', f'empty or whitespace-only text {text!r}'
    return None


def image_path_problem(entry) -> Optional[Tuple[str, str]]:
    """``('label_no_img_path', detail)`` for an entry MMOCR's dataset cannot even parse.

    An entry that is not a dict (e.g. a bare string), or has no ``img_path`` or a non-string
    one, makes mmengine's ``BaseDataset.parse_data_info`` raise a bare ``AssertionError`` /
    ``TypeError`` at build time, naming neither the file nor the entry.
    """
    if not isinstance(entry, dict):
        return 'label_no_img_path', (f'the entry is a {type(entry).__name__} {entry!r:.60}, '
                                     f'expected {{"img_path": ..., "instances": [...]}}')
    path = entry.get('img_path')
    if not isinstance(path, str) or not path:
        what = 'no "img_path"' if path is None else \
            f'"img_path" is {type(path).__name__} {path!r:.60}'
        return 'label_no_img_path', f'{what}, expected a file name'
    return None


def entry_problem(entry) -> Optional[Tuple[str, str]]:
    """What is wrong with a raw annotation entry: its image path, then its instance."""
    return image_path_problem(entry) or instance_problem(entry)


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

    Required keys: ``instances`` (the annotation entry: place it before
    ``LoadOCRAnnotations``) or ``gt_texts`` (from ``LoadOCRAnnotations(with_text=True)``).
    Modified keys: ``instances[0]['text']`` or ``gt_texts`` (only with
    ``long_label='truncate'``).

    Args:
        dictionary: the recogniser's dictionary config (or a built ``Dictionary``), used to
            find out-of-dictionary characters and whether they can map to ``<UKN>``.
        max_len: longest label in characters; ``None`` means no limit. ``MnspRunner``
            fills ``None`` from the head (:func:`mnsp_mm.apis.prepare.label_limit`):
            ``model.decoder.max_seq_len - 1`` for an attention decoder (room for the end
            token), the grid's columns for a CTC head.
        long_label: ``'skip'`` or ``'truncate'`` labels longer than ``max_len``.
        fail_fast: raise :class:`TextLabelError` instead of skipping.
        ctc: measure a label in CTC time steps: its characters plus one blank between each
            two equal neighbours (``'book'`` needs 5 columns).
    """

    def __init__(self, dictionary, max_len: Optional[int] = None, long_label: str = 'skip',
                 fail_fast: bool = False, ctc: bool = False):
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
        self.long_label, self.fail_fast, self.ctc = long_label, fail_fast, bool(ctc)

    def steps(self, text: str) -> int:
        """The length of ``text`` against ``max_len``: characters (+ CTC blanks if ``ctc``)."""
        if not self.ctc:
            return len(text)
        return len(text) + sum(a == b for a, b in zip(text, text[1:]))

    def _cut(self, text: str) -> str:
        """The longest prefix of ``text`` within ``max_len``."""
        while self.steps(text) > self.max_len:
            text = text[:-1]
        return text

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
        """Check the label of one sample.

        Returns:
            ``results`` (possibly with a truncated label), or ``None`` to skip the sample.
        """
        if 'gt_texts' in results:  # after LoadOCRAnnotations
            entry = dict(instances=[dict(text=t) for t in results['gt_texts']])
        else:
            entry = results
        problem = instance_problem(entry)
        if problem is not None:
            return self._problem(results, *problem, skip=True)
        text = entry['instances'][0]['text']
        if self.max_len is not None and self.steps(text) > self.max_len:
            repeats = self.steps(text) - len(text)
            extra = f' + {repeats} CTC blank(s) between repeats' if repeats else ''
            detail = f'{len(text)} characters{extra} > max_len={self.max_len}: {text[:60]!r}'
            if self.long_label == 'skip':
                return self._problem(results, 'label_too_long', detail, skip=True)
            text = self._cut(text)
            if 'gt_texts' in results:
                results['gt_texts'] = [text]
            else:
                results['instances'][0]['text'] = text
            self._problem(results, 'label_too_long', detail + ' (truncated)', skip=False)
        unknown = sorted(set(text) - self.chars)
        if unknown:
            detail = f'characters {"".join(unknown)!r} not in the dictionary'
            if self.with_unknown:
                return self._problem(results, 'label_unknown_chars',
                                     detail + ' (mapped to <UKN>)', skip=False)
            return self._problem(results, 'label_unknown_chars', detail, skip=True)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_len={self.max_len}, ctc={self.ctc}, '
                f'long_label={self.long_label!r}, with_unknown={self.with_unknown}, '
                f'fail_fast={self.fail_fast})')
