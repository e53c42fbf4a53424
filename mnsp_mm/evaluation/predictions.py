"""Per-crop predictions of a test run, one JSON line per crop, per test set.

MMOCR's metrics report aggregates only; intervals, paired differences and splits such as
in-vocabulary vs out-of-vocabulary need every crop's prediction. Add the metric beside the
others (its result dict is empty, so the metrics table is unchanged)::

    test_evaluator = dict(type='MultiDatasetsEvaluator', dataset_prefixes=sets, metrics=[
        *recog_metrics, dict(type='TextPredictionDump', out_dir='preds', dataset_prefixes=sets)])

Under ``MultiDatasetsEvaluator`` ``compute_metrics`` runs once per test set, in the order of
``dataset_prefixes``: the metric writes ``out_dir/<prefix>.jsonl`` with ``{"index",
"img_path", "gt", "pred", "score"}`` rows in dataset order.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from ..registry import register_metric


@register_metric(scopes=('mmocr', ))
class TextPredictionDump(BaseMetric):
    """Write every test crop's ground truth and prediction to JSON lines.

    Args:
        out_dir: directory of the ``<prefix>.jsonl`` files (created).
        dataset_prefixes: the test sets' names, as given to ``MultiDatasetsEvaluator``;
            None for a single test set written to ``test.jsonl``.
    """
    default_prefix = 'dump'

    def __init__(self, out_dir: str, dataset_prefixes: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = Path(out_dir)
        self.names = list(dataset_prefixes or ['test'])
        self._calls = 0

    def process(self, data_batch, data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            pred = sample.get('pred_text')
            score = pred.get('score') if pred is not None else None
            if hasattr(score, 'tolist'):
                score = score.tolist()
            if isinstance(score, list):  # per-character scores: their mean, as MMOCR shows
                score = sum(score) / len(score) if score else 0.0
            self.results.append(dict(img_path=sample.get('img_path'),
                                     gt=sample.get('gt_text').get('item'),
                                     pred=pred.get('item') if pred is not None else '',
                                     score=None if score is None else float(score)))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        name = self.names[self._calls % len(self.names)]
        self._calls += 1
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / f'{name}.jsonl', 'w') as f:
            for index, row in enumerate(results):
                f.write(json.dumps(dict(index=index, **row)) + '\n')
        return {}


def read_predictions(path) -> List[Dict]:
    """The rows of one ``<prefix>.jsonl`` file written by :class:`TextPredictionDump`.

    Raises:
        FileNotFoundError / ValueError: naming the file (and the line) that is missing or bad.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'no predictions file {path} (written by TextPredictionDump '
                                'in the test evaluator)')
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            row = json.loads(line)
            rows.append(dict(gt=str(row['gt']), pred=str(row['pred']), **{
                k: row[k] for k in row if k not in ('gt', 'pred')}))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f'{path}:{number}: not a prediction row ({err})') from err
    return rows
