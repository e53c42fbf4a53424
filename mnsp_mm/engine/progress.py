"""A progress bar with ETA for training and testing runs, and a per-iteration loss record.

mmengine logs every ``logger.interval`` iterations as text lines; a demo wants one bar per
stage and the loss of every iteration for its curves, so this hook (not registered: add it
with ``runner.register_hook(ProgressHook(...))``) draws a ``tqdm`` bar and appends
``{"iter": i, "loss": ..., "loss_<term>": ...}`` lines to a JSON-lines file.

On resume the bar starts at the resumed iteration and the loss file keeps its earlier lines;
:func:`read_losses` keeps the last record of each iteration, so a resumed run reads as one.
"""
import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from mmengine.hooks import Hook

PathLike = Union[str, Path]


def _loss_terms(outputs) -> Dict[str, float]:
    """The scalar losses of a train step's ``log_vars`` (``loss`` and ``loss_*``)."""
    if not isinstance(outputs, dict):
        return {}
    terms = {}
    for key, value in outputs.items():
        if key.startswith('loss'):
            try:
                terms[key] = float(value.detach() if hasattr(value, 'detach') else value)
            except (TypeError, ValueError):
                continue
    return terms


class ProgressHook(Hook):
    """tqdm bars for ``train`` (iterations) and ``test`` (batches), and a loss record.

    Args:
        desc: Bar label, e.g. ``'pretrain MAE'``.
        loss_file: JSON-lines file the per-iteration losses are appended to; None: no record.
        disable: No bars (the loss record is still written).
        position: Terminal line of the bar (0: the current one), for runs shown side by side
            from several processes.
    """
    priority = 'BELOW_NORMAL'

    def __init__(self, desc: str, loss_file: Optional[PathLike] = None, disable: bool = False,
                 position: int = 0):
        self.desc = desc
        self.position = position
        self.loss_file = Path(loss_file) if loss_file else None
        self.disable = disable
        self._bar = None
        self._fh = None

    def _open_bar(self, total: int, initial: int, desc: str, unit: str):
        from tqdm import tqdm
        self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit,
                         dynamic_ncols=True, disable=self.disable, smoothing=0.1,
                         position=self.position, leave=self.position == 0)

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def before_train(self, runner) -> None:
        self._open_bar(runner.max_iters, runner.iter, self.desc, 'it')
        if self.loss_file is not None:
            self.loss_file.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.loss_file.open('a', encoding='utf-8')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        terms = _loss_terms(outputs)
        if self._fh is not None and terms:
            self._fh.write(json.dumps({'iter': runner.iter + 1, **terms}) + '\n')
            self._fh.flush()  # a killed run keeps every finished iteration
        if self._bar is not None:
            if 'loss' in terms:
                self._bar.set_postfix_str(f"loss {terms['loss']:.4f}", refresh=False)
            self._bar.update(1)

    def after_train(self, runner) -> None:
        self._close_bar()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def before_test(self, runner) -> None:
        self._open_bar(len(runner.test_dataloader), 0, f'{self.desc}: test', 'batch')

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def after_test(self, runner) -> None:
        self._close_bar()


def read_losses(path: PathLike) -> List[dict]:
    """The records of a loss file, one per iteration (the last one wins), by iteration.

    Args:
        path: A file written by :class:`ProgressHook`.

    Returns:
        ``[{'iter': int, 'loss': float, ...}]`` sorted by ``iter``; non-finite values are
        kept as floats (``nan``/``inf``) so a bad run is visible, unreadable lines are
        skipped (a kill can cut the last line).
    """
    records = {}
    for line in Path(path).read_text(encoding='utf-8').splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get('iter'), int):
            records[rec['iter']] = rec
    return [records[i] for i in sorted(records)]


def first_below(records: List[dict], threshold: float, window: int = 20) -> Optional[int]:
    """The iteration at which the trailing moving mean (``window`` records) of ``loss`` first
    falls below ``threshold`` (e.g. a CTC recogniser leaving its all-blank plateau), or None.

    Args:
        records: :func:`read_losses` output, by iteration.
        threshold: the loss to fall below.
        window: records in the moving mean (all of them when fewer).
    """
    losses = [r['loss'] for r in records]
    if not losses:
        return None
    w = min(window, len(losses))
    moving = np.convolve(losses, np.ones(w) / w, 'valid')
    below = np.flatnonzero(moving < threshold)
    return records[below[0] + w - 1]['iter'] if len(below) else None


def smooth(values: List[float], window: int) -> List[float]:
    """Trailing moving average over ``window`` finite values (for plotting noisy losses)."""
    out, buf = [], []
    for v in values:
        if math.isfinite(v):
            buf.append(v)
            buf = buf[-window:]
        out.append(sum(buf) / len(buf) if buf else float('nan'))
    return out
