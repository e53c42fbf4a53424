"""Evaluation beyond MMOCR's aggregate metrics: per-crop predictions, reading splits
(in-vocabulary vs out-of-vocabulary), a guessing baseline and bootstrap intervals."""
from .bootstrap import Interval, bootstrap_mean, paired_difference
from .predictions import TextPredictionDump, read_predictions
from .reading import (guess_baseline, in_vocabulary, normalise, one_minus_ned, split_scores,
                      word_correct)

__all__ = ['Interval', 'bootstrap_mean', 'paired_difference', 'TextPredictionDump',
           'read_predictions', 'normalise', 'word_correct', 'one_minus_ned', 'in_vocabulary',
           'guess_baseline', 'split_scores']
