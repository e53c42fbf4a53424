"""Did the recogniser read? Per-crop scores, in/out-of-vocabulary splits, a guessing baseline.

A crop is **in-vocabulary** (IV) when its label, normalised as the headline metric compares
it, is also a training label, else **out-of-vocabulary** (OOV). A recogniser that learnt its
training labels by heart scores on IV crops only; reading shows on OOV crops.
"""
import json
import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

# MMOCR's WordMetric ignore_case_symbol mode: drop what is not a letter, digit or CJK
# character, compare lower case (written here: WordMetric keeps it inside process()).
_NOT_SYMBOL = re.compile('[^A-Z^a-z^0-9^\u4e00-\u9fa5]')


def normalise(text: str) -> str:
    """``text`` as WAICS (word accuracy ignoring case and symbols) compares it."""
    return _NOT_SYMBOL.sub('', text.lower())


def word_correct(rows: Iterable[Dict]) -> np.ndarray:
    """(n,) 1.0 where the prediction matches the label ignoring case and symbols, else 0.0."""
    return np.array([normalise(r['pred']) == normalise(r['gt']) for r in rows], np.float64)


def one_minus_ned(rows: Iterable[Dict]) -> np.ndarray:
    """(n,) 1 - normalised edit distance per crop (MMOCR OneMinusNEDMetric's per-crop term)."""
    return np.array([1 - Levenshtein.normalized_distance(normalise(r['pred']),
                                                         normalise(r['gt'])) for r in rows])


def training_labels(ann_file) -> List[str]:
    """The labels of an MMOCR textrecog json, one per instance, in order."""
    data = json.loads(Path(ann_file).read_text(encoding='utf-8'))
    return [str(inst.get('text', '')) for e in data.get('data_list', [])
            for inst in e.get('instances', [])]


def in_vocabulary(rows: Iterable[Dict], train_labels: Iterable[str]) -> np.ndarray:
    """(n,) True where the crop's normalised label is a normalised training label."""
    seen = {normalise(t) for t in train_labels}
    return np.array([normalise(r['gt']) in seen for r in rows], bool)


def guess_baseline(rows: Sequence[Dict], train_labels: Sequence[str], draws: int = 20,
                   seed: int = 0) -> Dict[str, np.ndarray]:
    """Per-crop scores of answering a uniformly random training label.

    Returns:
        ``{'word': (n,), 'ned': (n,)}``: the exact probability of a word match
        (``count(label) / len(train_labels)``) and the mean 1-N.E.D of ``draws`` guesses.
    """
    labels = [normalise(t) for t in train_labels]
    counts, total = Counter(labels), len(labels)
    if not total:
        raise ValueError('guess_baseline: no training labels')
    rng = np.random.default_rng(seed)
    word = np.array([counts[normalise(r['gt'])] / total for r in rows])
    ned = np.array([np.mean([1 - Levenshtein.normalized_distance(labels[i], normalise(r['gt']))
                             for i in rng.integers(0, total, draws)]) for r in rows])
    return dict(word=word, ned=ned)
