"""Random-number-generator states in checkpoints, so a resumed run repeats the original.

mmengine's resume restores weights, optimizer, schedulers and the iteration, and
``IterBasedTrainLoop`` re-reads the batches already trained to reach the same data position.
But the Python / numpy / torch generators that draw the MAE masks, the augmentations and
dropout restart from the seed, so a resumed run would see different masks than an
uninterrupted one. :class:`RNGStateHook` stores every rank's generator states in the
checkpoint (``meta['rng_state']``, plain lists and tensors that load under
``torch.load(weights_only=True)``) and puts them back right before the first batch that
was not trained yet -- after the dataloader fast-forward, which itself draws random numbers
when the pipeline runs in the main process.
"""
import logging
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from ..registry import register_hook

META_KEY = 'rng_state'


def get_rng_state() -> Dict[str, Any]:
    """This process's Python, numpy, torch (and CUDA) generator states, weights-only safe."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = dict(
        python=[py_state[0], list(py_state[1]), py_state[2]],
        numpy=[np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore the states written by :func:`get_rng_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = state['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreBeforeNext:
    """Dataloader iterator proxy: restore RNG states before the ``at``-th ``next`` (0-based)."""

    def __init__(self, loop, state: Dict[str, Any], at: int):
        self.loop, self.inner, self.state, self.remaining = \
            loop, loop.dataloader_iterator, state, at

    def __next__(self):
        if self.remaining == 0:
            set_rng_state(self.state)
            self.loop.dataloader_iterator = self.inner  # done: take the proxy out
            return next(self.inner)
        self.remaining -= 1
        return next(self.inner)

    def __iter__(self):
        return self


@register_hook()
class RNGStateHook(Hook):
    """Save every rank's RNG states in checkpoints and restore them on ``--resume``.

    Under DDP the states are gathered from all ranks at the iterations (or epochs) where the
    :class:`~mmengine.hooks.CheckpointHook` may save, since only rank 0 writes the file.
    """

    priority = 'LOW'  # after the other after-iter hooks, before CheckpointHook (VERY_LOW)

    def __init__(self):
        self._gathered: Optional[List[Dict[str, Any]]] = None
        self._loaded: Optional[List[Dict[str, Any]]] = None

    # ------------------------------------------------------------------ saving
    def _gather(self) -> None:
        self._gathered = all_gather_object(get_rng_state())

    def _checkpoint_hook(self, runner) -> Optional[CheckpointHook]:
        return next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        hook = self._checkpoint_hook(runner)
        if get_world_size() > 1 and hook is not None and not hook.by_epoch and (
                self.every_n_train_iters(runner, hook.interval)
                or self.is_last_train_iter(runner)):
            self._gather()

    def after_train_epoch(self, runner) -> None:
        hook = self._checkpoint_hook(runner)
        if get_world_size() > 1 and hook is not None and hook.by_epoch:
            self._gather()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered if get_world_size() > 1 else [get_rng_state()]
        if states is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = states

    # ----------------------------------------------------------------- loading
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('meta', {}).get(META_KEY)

    def before_train(self, runner) -> None:
        states, self._loaded = self._loaded, None
        if states is None or runner.iter == 0:
            return  # a fresh run, or weights only (load_from without resume)
        rank, world = get_rank(), get_world_size()
        if len(states) != world:
            print_log(f'RNGStateHook: the checkpoint holds RNG states of {len(states)} '
                      f'process(es), this run has {world}; random draws after the resume '
                      f'differ from an uninterrupted run', logger='current',
                      level=logging.WARNING)
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):
            # IterBasedTrainLoop re-reads runner.iter batches first (drawing random numbers
            # when the pipeline runs in this process): restore after that.
            loop.dataloader_iterator = _RestoreBeforeNext(loop, states[rank], runner.iter)
        else:
            set_rng_state(states[rank])
