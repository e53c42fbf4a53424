"""Dataset preparation, beside the datasets it prepares (``tools/prepare_dataset.py`` is the
command line): the six common benchmarks through MMOCR's ``DatasetPreparer`` and our
``dataset_zoo/`` (:mod:`.benchmarks`), and the check of a hand-downloaded Union14M against
the layout our configs read (:mod:`.union14m`)."""
from .benchmarks import SPLITS, load_dataset_cfg, md5sum, prepare, problem, required_files
from .union14m import BENCHMARK_SUBSETS, TRAIN_SPLITS, U_LMDBS, check_union14m

__all__ = ['SPLITS', 'load_dataset_cfg', 'md5sum', 'prepare', 'problem', 'required_files',
           'check_union14m', 'TRAIN_SPLITS', 'BENCHMARK_SUBSETS', 'U_LMDBS']
