"""Counts of skipped samples, per process: what ``DataHealthHook`` sums over workers and ranks.

Per-process counters keyed by pid: a forked dataloader worker inherits the parent's dict,
but keying by pid makes it start from zero and report only its own skips.
"""
import os
import threading
from collections import Counter
from typing import Dict, Tuple

#: Reasons a sample can be skipped for (keys of :meth:`LoadTextImage.skipped`).
SKIP_REASONS = ('missing', 'empty', 'truncated', 'undecodable', 'zero_size', 'too_small',
                'too_large')


_SKIP_LOCK = threading.Lock()
_SKIP_COUNTS: Dict[int, Counter] = {}


_SKIP_DRAINED: Dict[int, Counter] = {}


def count_skip(reason: str) -> Tuple[int, Dict[str, int]]:
    """Count one data problem of kind ``reason`` in the calling process.

    Shared by every robust data transform (image loading here, labels in
    :mod:`mnsp_mm.datasets.labels`), so one hook reports them all.

    Returns:
        ``(total, counts)`` of this process so far, for the transform's warning.
    """
    with _SKIP_LOCK:
        counts = _SKIP_COUNTS.setdefault(os.getpid(), Counter())
        counts[reason] += 1
        return sum(counts.values()), dict(counts)



def drain_skip_counts() -> Dict[str, int]:
    """The counts of this process since the previous call (``{}`` when nothing happened).

    Called by the collate wrapper of :mod:`mnsp_mm.engine.data_health` once per batch, in
    the process that built the batch (a dataloader worker or the main process), so every
    skip travels to the main process exactly once, inside the batch it affected.
    """
    pid = os.getpid()
    with _SKIP_LOCK:
        counts = _SKIP_COUNTS.get(pid)
        if not counts:
            return {}
        drained = _SKIP_DRAINED.setdefault(pid, Counter())
        delta = {k: v - drained[k] for k, v in counts.items() if v > drained[k]}
        drained.update(delta)
        return delta




def skip_counts() -> Dict[str, int]:
    """``{reason: count}`` of the skips so far in the calling process."""
    with _SKIP_LOCK:
        return dict(_SKIP_COUNTS.get(os.getpid(), {}))


def reset_skip_counts() -> None:
    """Forget the calling process's skip counts (and what was drained of them)."""
    with _SKIP_LOCK:
        _SKIP_COUNTS.pop(os.getpid(), None)
        _SKIP_DRAINED.pop(os.getpid(), None)
