"""MMOCR's ``OCRDataset`` that drops annotation entries it cannot parse, counting them.

mmengine's ``BaseDataset.parse_data_info`` joins ``data_prefix['img_path']`` with each
entry's ``img_path``: an entry that is a bare string or lacks ``img_path`` raises
``AssertionError: raw_data_info ... dose not contain prefix keyimg_path``, a number raises
``TypeError: join() argument must be str``, both while the dataset is built and naming
neither the file nor the entry. ``MnspRunner`` (:func:`mnsp_mm.apis.prepare.prepare_config`)
builds every ``OCRDataset`` of a config as :class:`CheckedOCRDataset`; the start-up check
(:func:`mnsp_mm.apis.config_checks.check_annotation_files`) has already logged such training
entries with their indices, and refused them in evaluation files.
"""
import logging
from typing import List, Union

from mmengine.logging import print_log
from mmocr.datasets import OCRDataset

from ..registry import register_dataset
from .labels import image_path_problem
from .skip_counts import count_skip


@register_dataset(scopes=('mmocr', ))
class CheckedOCRDataset(OCRDataset):
    """``OCRDataset`` (same arguments) skipping entries without a usable ``img_path``.

    Each one is counted as ``label_no_img_path`` (reported by ``DataHealthHook``) and
    logged with its index; in ``test_mode`` it is an error naming the file and the index.
    """

    def load_data_list(self) -> List[dict]:
        self._entry_index = -1
        return super().load_data_list()

    def parse_data_info(self, raw_data_info) -> Union[dict, List[dict]]:
        self._entry_index += 1
        problem = image_path_problem(raw_data_info)
        if problem is None:
            return super().parse_data_info(raw_data_info)
        reason, detail = problem
        where = f'{self.ann_file}: entry {self._entry_index}'
        if self.test_mode:
            raise ValueError(f'{where} cannot be evaluated ({reason}: {detail}); fix or '
                             f'remove it')
        total, counts = count_skip(reason)
        print_log(f'{where} skipped ({reason}: {detail}); {total} data problems so far: '
                  f'{counts}', logger='current', level=logging.WARNING)
        return []  # mmengine's load_data_list extends the list with it: nothing
