"""``tools/test.py --save-preds``: every prediction of a test run in one pickle file."""
from typing import Any, List, Sequence

from mmengine.evaluator import DumpResults
from mmengine.fileio import dump

from ..registry import register_metric


@register_metric(scopes=('mmocr', ))
class DumpPredictions(DumpResults):
    """mmengine's ``DumpResults`` that also works inside MMOCR's ``MultiDatasetsEvaluator``.

    That evaluator calls ``compute_metrics`` once per dataset slice, so ``DumpResults``
    would leave only the last dataset in the file; here each call adds its slice and the
    file is rewritten with all of them. The file holds one dict per sample (MMOCR's
    ``TextRecogDataSample`` as a dict: ``img_path``, ``pred_text.item``,
    ``pred_text.score``, ``gt_text.item``, ...), the format MMOCR's
    ``tools/analysis_tools/offline_eval.py`` reads.

    Args:
        out_file_path: the ``.pkl`` file to write.
        collect_device: ``cpu`` or ``gpu``, for gathering the predictions of every rank.
    """

    def __init__(self, out_file_path: str, collect_device: str = 'cpu') -> None:
        super().__init__(out_file_path=out_file_path, collect_device=collect_device)
        self._dumped: List[Any] = []

    def process(self, data_batch: Any, predictions: Sequence[dict]) -> None:
        if not self.results:  # the first batch of a new evaluation
            self._dumped = []
        super().process(data_batch, predictions)

    def compute_metrics(self, results: list) -> dict:
        self._dumped.extend(results)
        dump(self._dumped, self.out_file_path)
        return {}
