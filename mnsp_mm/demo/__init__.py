"""The demo study behind ``make demo`` / ``tools/demo.py``: pretraining for text recognition on
the built-in synthetic data, on a CPU.

* :mod:`.profiles` -- sizes, budgets, rows and seeds per profile, what the crops say, the
  test sets;
* :mod:`.plan` -- the methods and the runs of a profile (pretraining and fine-tuning seeds);
* :mod:`.scheduler` -- the stage cache, reruns of stale stages, stages side by side;
* :mod:`.stages` -- :class:`Study`: render, pretrain, fine-tune and test, reference reader,
  diagnostics, attention;
* :mod:`.report`, :mod:`.figures` -- ``report.md`` and its figures, read back from the stage
  records.

The top layer of the package: it uses the renderer, the runner, the evaluation and the
analysis, and nothing imports it.
"""
from .plan import METHODS, build_plan
from .profiles import PROFILES, TEST_SETS, Profile
from .report import write_report
from .stages import Study

__all__ = ['Study', 'Profile', 'PROFILES', 'TEST_SETS', 'METHODS', 'build_plan',
           'write_report']
