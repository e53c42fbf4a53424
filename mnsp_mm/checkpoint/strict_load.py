"""Refuse to evaluate a checkpoint that does not fit its config.

mmengine's runner loads ``load_from`` non-strictly: a checkpoint of another architecture
(another patch size, stem or decoder) only gives a "do not match exactly" warning deep in the
log, and the run scores the half-random model. :func:`check_checkpoint_fits` compares the
checkpoint's ``state_dict`` with the built model before anything is evaluated and raises a
short summary (``412 missing keys, first: backbone.patch_embed.projection.weight; ...; is this
the right config?``) unless the caller allows a mismatch explicitly (``tools/test.py
--allow-mismatch``).
"""
import logging
import re
from typing import Dict, List

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model built from the config."""


def state_dict_mismatch(model_state: Dict, ckpt_state: Dict) -> Dict[str, List[str]]:
    """Keys the checkpoint lacks, keys the model lacks, and keys whose shapes differ.

    ``num_batches_tracked`` buffers are ignored, as mmengine's loader does.

    Returns:
        ``{'missing': [...], 'unexpected': [...], 'shape': ['key (checkpoint S, model S)']}``
        with keys in model/checkpoint order.
    """
    def keep(k):
        return not k.endswith('num_batches_tracked')

    missing = [k for k in model_state if keep(k) and k not in ckpt_state]
    unexpected = [k for k in ckpt_state if keep(k) and k not in model_state]
    shape = [f'{k} (checkpoint {tuple(ckpt_state[k].shape)}, model {tuple(v.shape)})'
             for k, v in model_state.items() if k in ckpt_state and hasattr(v, 'shape')
             and hasattr(ckpt_state[k], 'shape') and ckpt_state[k].shape != v.shape]
    return dict(missing=missing, unexpected=unexpected, shape=shape)


def summarize(mismatch: Dict[str, List[str]]) -> str:
    """One line: ``412 missing keys, first: ...; 3 unexpected keys, first: ...``."""
    words = dict(missing='missing keys', unexpected='unexpected keys',
                 shape='keys with another shape')
    return '; '.join(f'{len(v)} {words[k]}, first: {v[0]}' for k, v in mismatch.items() if v)


def _state_dict(checkpoint: str) -> Dict:
    """The checkpoint's weights (weights-only load; local files are memory-mapped)."""
    import os.path as osp

    from mmengine.runner.checkpoint import _load_checkpoint

    from .safe_load import load_checkpoint_file
    ckpt = load_checkpoint_file(checkpoint, mmap=True) if osp.isfile(checkpoint) else \
        _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        where = '"state_dict"' if isinstance(ckpt, dict) and 'state_dict' in ckpt else 'it'
        raise CheckpointMismatchError(
            f'{checkpoint} does not fit the model of this config: {where} is a '
            f'{type(state).__name__}, not a dict of named weights; is it a checkpoint written '
            f'by tools/train.py?')
    # the prefix mmengine's Runner.load_checkpoint strips too (revise_keys)
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def check_checkpoint_fits(model, checkpoint: str, allow_mismatch: bool = False) -> Dict:
    """Raise unless every weight of ``model`` is in ``checkpoint`` with the same shape.

    Args:
        model: the built model (a DDP wrapper is unwrapped).
        checkpoint: path or URL, as given to ``load_from``.
        allow_mismatch: only warn (for deliberate partial evaluation).

    Returns:
        The mismatch (see :func:`state_dict_mismatch`); empty lists when it fits.

    Raises:
        CheckpointMismatchError: naming the counts and the first key of each kind, or what
            the checkpoint holds instead of a dict of weights (a bare tensor, a list).
    """
    if is_model_wrapper(model):
        model = model.module
    mismatch = state_dict_mismatch(model.state_dict(), _state_dict(checkpoint))
    if any(mismatch.values()):
        text = (f'{checkpoint} does not fit the model of this config: {summarize(mismatch)}; '
                f'is this the right config?')
        if not allow_mismatch:
            raise CheckpointMismatchError(
                text + ' (pass --allow-mismatch to evaluate it anyway, non-strictly)')
        print_log(text + ' Evaluating anyway (--allow-mismatch).', logger='current',
                  level=logging.WARNING)
    return mismatch
