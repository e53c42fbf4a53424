"""The demo study behind ``make demo`` / ``tools/demo.py``: pretraining for text recognition on
the built-in synthetic data, on a CPU.

* :mod:`.profiles` -- sizes and budgets per profile, what the crops say, the test sets, configs;
* :mod:`.scheduler` -- the stage cache, reruns of stale stages, stages side by side;
* :mod:`.stages` -- :class:`Study`: render, pretrain, fine-tune and test, reference reader,
  attention;
* :mod:`.report` -- ``report.md`` and its figures, read back from the stage records.

The top layer of the package: it uses the renderer, the runner, the evaluation and the
analysis, and nothing imports it.
"""
from .profiles import INITS, LABELS, PRETRAIN, PROFILES, TEST_SETS, Profile
from .report import write_report
from .stages import Study

__all__ = ['Study', 'Profile', 'PROFILES', 'TEST_SETS', 'INITS', 'PRETRAIN', 'LABELS',
           'write_report']
