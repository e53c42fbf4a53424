"""Runner hooks that keep long runs healthy (registered in the mmpretrain and mmocr scopes).

* :class:`DataHealthHook` -- counts of skipped/altered samples, summed over workers and ranks;
* :class:`NonFiniteLossHook` -- a NaN/Inf loss stops the run before the optimizer step;
* :class:`RNGStateHook` -- RNG states in checkpoints, so ``--resume`` repeats the original run;
* :class:`AtomicCheckpointHook` -- checkpoints a kill cannot truncate (``build_runner`` puts it
  in place of ``CheckpointHook``); :func:`find_resumable_checkpoint` for ``--resume``;
* :class:`FairShareHook` -- torch threads follow the cores other processes leave free;
* :class:`BF16OptimWrapper` -- bf16 autocast on any device (mmengine's AMP wrapper needs a GPU).

Both default runtimes (``configs/*/_base_/default_runtime.py``) list them in ``custom_hooks``.
:class:`ProgressHook` (a progress bar and a per-iteration loss file, not registered) is
added by whoever wants it, e.g. the demo.
"""
from .bf16 import BF16OptimWrapper
from .checkpoint import (AtomicCheckpointHook, find_resumable_checkpoint,
                         use_atomic_checkpoints, why_unloadable)
from .data_health import (ALL_REASONS, COLLATE_NAME, SKIP_KEY, DataHealthHook,
                          counting_collate, wrap_collate)
from .fair_share import FairShareHook
from .loss_guard import NonFiniteLossError, NonFiniteLossHook, non_finite_terms
from .progress import ProgressHook, read_losses, smooth
from .rng_state import RNGStateHook, get_rng_state, set_rng_state

__all__ = [
    'DataHealthHook', 'counting_collate', 'wrap_collate', 'SKIP_KEY', 'ALL_REASONS',
    'COLLATE_NAME', 'NonFiniteLossHook', 'NonFiniteLossError', 'non_finite_terms',
    'RNGStateHook', 'get_rng_state', 'set_rng_state', 'AtomicCheckpointHook',
    'find_resumable_checkpoint', 'use_atomic_checkpoints', 'why_unloadable', 'FairShareHook',
    'ProgressHook', 'read_losses', 'smooth', 'BF16OptimWrapper'
]
