"""Counting skipped / altered samples across dataloader workers and ranks.

The robust transforms (:class:`~mnsp_mm.datasets.LoadTextImage`,
:class:`~mnsp_mm.datasets.FilterTextLabel`) count problems per process, but dataloader workers
are separate processes whose Python state the main process cannot read. So the counts travel
with the data: :func:`counting_collate` (wrapped around the configured ``collate_fn`` by
:class:`mnsp_mm.apis.MnspRunner`) runs in the process that built the batch, drains that
process's new counts and stores them in the batch under :data:`SKIP_KEY`. In the main
process :class:`DataHealthHook` pops them from every batch before the model sees it, sums
them over ranks at each log interval and logs a warning when new problems appeared.

This works for ``num_workers=0``, forked or spawned workers and persistent workers alike,
and costs one small dict per batch only when something was skipped.
"""
import logging
from collections import Counter
from typing import Dict, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS

from ..datasets.labels import LABEL_REASONS
from ..datasets.skip_counts import SKIP_REASONS, drain_skip_counts
from ..registry import register_function, register_hook

#: Batch key carrying ``{reason: count}`` from the worker to the main process.
SKIP_KEY = '_mnsp_data_issues'

#: Every reason a robust transform counts, in a fixed order (summed over ranks as a tensor).
ALL_REASONS = SKIP_REASONS + LABEL_REASONS

#: ``collate_fn`` type that :func:`counting_collate` is registered as.
COLLATE_NAME = 'mnsp_counting_collate'


@register_function(COLLATE_NAME)
def counting_collate(data_batch: Sequence, collate_fn: Optional[dict] = None):
    """Collate with ``collate_fn``, then attach this process's new data-problem counts.

    Args:
        data_batch: the samples of one batch.
        collate_fn: the wrapped collate config (``dict(type=NAME, **kwargs)``); defaults to
            mmengine's ``pseudo_collate``, the runner's own default.

    Returns:
        The collated batch; a dict batch gains :data:`SKIP_KEY` when samples were skipped.
    """
    cfg = dict(collate_fn or dict(type='pseudo_collate'))
    fn = FUNCTIONS.get(cfg.pop('type'))
    batch = fn(data_batch, **cfg)
    counts = drain_skip_counts()
    if counts and isinstance(batch, dict):
        batch[SKIP_KEY] = counts
    return batch


def wrap_collate(dataloader_cfg: dict) -> None:
    """Make a dataloader config use :func:`counting_collate` around its ``collate_fn``."""
    inner = dataloader_cfg.get('collate_fn', dict(type='pseudo_collate'))
    if isinstance(inner, dict) and inner.get('type') == COLLATE_NAME:
        return
    if not isinstance(inner, dict) or not isinstance(inner.get('type'), str):
        # a callable given in Python: leave it, counts then stay per process
        return
    dataloader_cfg['collate_fn'] = dict(type=COLLATE_NAME, collate_fn=dict(inner))


@register_hook()
class DataHealthHook(Hook):
    """Log how many training samples were skipped or altered, summed over workers and ranks.

    Every ``interval`` iterations (and at the end) the counts gathered since the start are
    summed over ranks; when they grew, a warning such as ``data: 3 new problems in the last
    50 iterations (missing=2, truncated=1); 7 since the start over all workers and ranks``
    is logged, and ``train/data_skipped`` (the total) is added to the log line.

    Args:
        interval: iterations between reports; ``None`` (default) uses the ``LoggerHook``'s.
    """

    priority = 'NORMAL'

    def __init__(self, interval: Optional[int] = None):
        self.interval = None if interval is None else int(interval)
        self._local: Counter = Counter()
        self._reported: Dict[str, int] = {}

    def before_train(self, runner) -> None:
        if self.interval is None:
            logger = next((h for h in runner.hooks if isinstance(h, LoggerHook)), None)
            self.interval = logger.interval if logger is not None else 50

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Take the counts out of the batch, so the model never sees them.

        Also drains this process's own counts: entries dropped while the dataset was built
        (``CheckedOCRDataset``) are counted in the main process, which builds no batch when
        the loader has workers.
        """
        if isinstance(data_batch, dict):
            self._local.update(data_batch.pop(SKIP_KEY, {}))
        self._local.update(drain_skip_counts())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self.report(runner)

    def totals(self) -> Dict[str, int]:
        """This rank's counts so far (all reasons, the collective sum is in :meth:`report`)."""
        return dict(self._local)

    def report(self, runner) -> Dict[str, int]:
        """Sum the counts over ranks and warn about new ones.

        Every rank must call it at the same iteration (it is a collective under DDP).

        Returns:
            The totals over all ranks, ``{reason: count}`` (non-zero reasons only).
        """
        counts = torch.tensor([self._local[r] for r in ALL_REASONS], dtype=torch.float64)
        if get_world_size() > 1:
            all_reduce(counts, op='sum')
        total = {r: int(c) for r, c in zip(ALL_REASONS, counts.tolist()) if c}
        new = {r: n - self._reported.get(r, 0) for r, n in total.items()
               if n > self._reported.get(r, 0)}
        if new:
            detail = ', '.join(f'{r}={n}' for r, n in new.items())
            print_log(f'data: {sum(new.values())} new problem(s) by iteration {runner.iter + 1} '
                      f'({detail}); {sum(total.values())} since the start over all workers '
                      f'and ranks: {total} (see docs/robustness.md)', logger='current',
                      level=logging.WARNING)
        if total:
            runner.message_hub.update_scalar('train/data_skipped', sum(total.values()))
        self._reported = total
        return total
