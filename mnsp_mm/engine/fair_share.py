"""A fair share of a busy machine: torch's intra-op threads follow the cores left free.

torch starts one intra-op (OpenMP) thread per core and splits every operator evenly between
them. When another process keeps one of the cores busy, the thread that shares its core gets
a fraction of it, and every operator waits for that straggler at its closing barrier (the
others spin, then sleep). Small operators, as in our tiny CPU models, pay this at every one
of thousands of barriers per step: a run that takes 3.5 min alone took 24 min with one of two
cores taken (7x, where a fair share would be 2x).

:class:`FairShareHook` measures, every ``interval`` seconds, how much CPU the rest of the
machine used (``/proc/stat`` minus this process) and sets ``torch.set_num_threads`` to the
cores left free (at least 1, at most the starting count), so the run uses what is free and no
thread waits for a core someone else holds. Without ``/proc/stat`` (not Linux) it does nothing.
"""
import logging
import os
import time
from typing import Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ..registry import register_hook


def _machine_busy_seconds() -> Optional[Tuple[float, int]]:
    """``(busy CPU seconds of the whole machine since boot, cores)``, from ``/proc/stat``."""
    try:
        with open('/proc/stat') as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    tick = os.sysconf('SC_CLK_TCK')
    return (sum(fields[:8]) - idle) / tick, os.cpu_count() or 1


def free_cores(sample_a, sample_b) -> float:
    """Cores the rest of the machine left free between two :func:`sample` calls."""
    (busy_a, own_a, wall_a, cores), (busy_b, own_b, wall_b, _) = sample_a, sample_b
    wall = max(wall_b - wall_a, 1e-6)
    others = max(0.0, (busy_b - busy_a) - (own_b - own_a)) / wall
    return max(0.0, cores - others)


def sample() -> Optional[Tuple[float, float, float, int]]:
    """``(machine busy s, this process's CPU s, wall s, cores)`` now, or ``None``."""
    machine = _machine_busy_seconds()
    if machine is None:
        return None
    return machine[0], time.process_time(), time.monotonic(), machine[1]


@register_hook()
class FairShareHook(Hook):
    """Set torch's intra-op threads to the cores other processes leave free.

    It re-measures after training, validation and test iterations alike, at most every
    ``interval`` seconds. The thread count changes float rounding a little, so a run whose
    thread count followed the machine's load does not repeat another bit for bit; for that,
    fix the count (``OMP_NUM_THREADS=N`` and ``adapt=False``, or ``OMP_NUM_THREADS=1``).

    Args:
        interval: seconds between measurements (each costs one read of ``/proc/stat``).
        max_threads: upper bound; ``None`` takes torch's thread count at the start of the
            run (``OMP_NUM_THREADS`` or one per core).
        adapt: ``False`` keeps the thread count fixed (the hook does nothing).
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: float = 2.0, max_threads: Optional[int] = None,
                 adapt: bool = True):
        self.interval, self.adapt = float(interval), adapt
        self.max_threads = max_threads
        self._last = self._start = None

    def before_run(self, runner) -> None:
        self._start = torch.get_num_threads()
        if self.max_threads is None:
            self.max_threads = self._start
        self._last = sample()

    def after_run(self, runner) -> None:
        """Give the process back the thread count it had (the next run in it starts there)."""
        if self._start is not None and torch.get_num_threads() != self._start:
            torch.set_num_threads(self._start)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.adjust()

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.adjust()

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.adjust()

    def adjust(self) -> None:
        """Re-measure if ``interval`` seconds have passed and set the thread count."""
        if not self.adapt or self._last is None or self.max_threads <= 1:
            return
        now = sample()
        if now is None or now[2] - self._last[2] < self.interval:
            return
        free = free_cores(self._last, now)
        self._last = now
        # + 0.25: a core 3/4 free is worth a thread; our own spinning counts as ours
        threads = int(min(self.max_threads, max(1, free + 0.25)))
        if threads != torch.get_num_threads():
            print_log(f'FairShareHook: {free:.1f} of {now[3]} cores free, using {threads} '
                      f'torch thread(s)', logger='current', level=logging.INFO)
            torch.set_num_threads(threads)
