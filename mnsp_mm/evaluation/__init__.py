"""Evaluation beyond MMOCR's aggregate metrics.

* :mod:`.benchmarks` -- the benchmark sets, their aliases and counts, and the averages;
* :mod:`.collect` -- metrics of runs read from ``test_metrics.json`` and mmengine logs;
* :mod:`.results` -- one table over several runs (averages, notes), markdown or CSV;
* :mod:`.published` -- the papers' numbers, printed apart from ours;
* :mod:`.predictions` -- per-crop predictions as JSON lines per test set (for analysis);
  :mod:`.dump_predictions` -- MMOCR's pickle for ``tools/test.py --save-preds`` and MMOCR's
  offline evaluation; :mod:`.reading` / :mod:`.reading_table`
  -- in-vocabulary vs out-of-vocabulary splits, a guessing baseline, bootstrap intervals
  (:mod:`.bootstrap`); :mod:`.tesseract` -- the Tesseract reference reader.
"""
from .benchmarks import (AVG, DEFAULT_COUNTS, SIX_BENCHMARKS, U14M_AVG, U14M_AVG_SUBSETS,
                         U14M_SUBSETS, WAVG, average_sets, canonical_dataset, order_datasets)
from .bootstrap import Interval, bootstrap_mean, bootstrap_spearman, paired_difference
from .collect import (DEFAULT_METRIC, SINGLE_SET, ResultsError, find_metric_files,
                      is_metric_key, load_run_metrics, metric_names, read_log_records,
                      select_metric, split_metric_key)
from .dump_predictions import DumpPredictions
from .predictions import TextPredictionDump, read_predictions
from .published import (PUBLISHED_COLUMNS, PUBLISHED_HEADING, PUBLISHED_METRIC,
                        PUBLISHED_NAME_COLUMN, PUBLISHED_ROWS, published_rows)
from .reading import guess_baseline, in_vocabulary, normalise, one_minus_ned, word_correct
from .results import (NAME_COLUMN, build_table, parse_counts, render, table_notes, to_csv,
                      to_markdown)

__all__ = [
    'AVG', 'DEFAULT_COUNTS', 'SIX_BENCHMARKS', 'U14M_AVG', 'U14M_AVG_SUBSETS', 'U14M_SUBSETS',
    'WAVG', 'average_sets', 'canonical_dataset', 'order_datasets', 'DEFAULT_METRIC',
    'SINGLE_SET', 'ResultsError', 'find_metric_files', 'is_metric_key', 'load_run_metrics',
    'metric_names', 'read_log_records', 'select_metric', 'split_metric_key',
    'PUBLISHED_COLUMNS', 'PUBLISHED_HEADING', 'PUBLISHED_METRIC', 'PUBLISHED_NAME_COLUMN',
    'PUBLISHED_ROWS', 'published_rows', 'NAME_COLUMN', 'build_table', 'parse_counts', 'render',
    'table_notes', 'to_csv', 'to_markdown', 'Interval', 'bootstrap_mean', 'bootstrap_spearman',
    'paired_difference',
    'TextPredictionDump', 'read_predictions', 'normalise', 'word_correct', 'one_minus_ned',
    'in_vocabulary', 'guess_baseline', 'DumpPredictions'
]
