"""Evaluation beyond MMOCR's aggregate metrics: per-crop predictions (``TextPredictionDump``,
JSON lines per test set, for analysis; ``DumpPredictions``, MMOCR's pickle for
``tools/test.py --save-preds`` and MMOCR's offline evaluation), reading splits
(in-vocabulary vs out-of-vocabulary), a guessing baseline and bootstrap intervals."""
from .bootstrap import Interval, bootstrap_mean, paired_difference
from .dump_predictions import DumpPredictions
from .predictions import TextPredictionDump, read_predictions
from .reading import guess_baseline, in_vocabulary, normalise, one_minus_ned, word_correct

__all__ = ['Interval', 'bootstrap_mean', 'paired_difference', 'DumpPredictions',
           'TextPredictionDump', 'read_predictions', 'normalise', 'word_correct',
           'one_minus_ned', 'in_vocabulary', 'guess_baseline']
