"""Safe checkpoint loading under ``torch.load(weights_only=True)``.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default. That refuses any pickled
global outside a small allow-list, which breaks two formats we must read:

* mmengine's own checkpoints (``resume`` / ``load_from`` / ``init_cfg``): the message hub
  stores :class:`mmengine.logging.HistoryBuffer` objects holding numpy arrays and scalars.
* the official MAE / MAERec / LMIM checkpoints: ``{'model': ..., 'args': argparse.Namespace}``.

Instead of turning safety off, :func:`allow_checkpoint_globals` adds exactly those classes to
torch's allow-list, so a checkpoint that pickles any other callable (``os.system``, ...) is
still refused. ``import mnsp_mm`` calls it once; :func:`load_checkpoint_file` is the single
entry point our own code uses to read a checkpoint file.
"""
import argparse
import os
import collections
import pickle
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np
import torch


def _numpy_globals() -> List[Any]:
    """numpy objects that ``np.save``-free pickling of arrays and scalars refers to."""
    try:  # numpy >= 1.25 keeps the pickling helpers in numpy.core.multiarray (numpy._core in 2.x)
        from numpy.core import multiarray
    except ImportError:  # pragma: no cover - numpy 2
        from numpy._core import multiarray
    objs = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # Concrete dtype classes (numpy.dtypes.Float64DType, ...) appear in pickles of dtypes.
    objs += sorted({type(np.dtype(t)) for t in np.sctypeDict.values()}, key=str)
    return objs


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call: a statistics method of ``HistoryBuffer``.

    A ``HistoryBuffer`` pickles its ``statistics_methods`` as ``getattr(HistoryBuffer, 'mean')``;
    this stands in for ``builtins.getattr`` during a weights-only load and refuses the rest.
    """
    from mmengine.logging import HistoryBuffer
    # the built-ins are registered lazily (first HistoryBuffer()), custom ones by users
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'checkpoint asks for getattr({obj!r}, {name!r}); only '
                                 f'HistoryBuffer statistics methods are allowed')


def checkpoint_safe_globals() -> List[Any]:
    """The exact list of non-tensor globals our supported checkpoint formats contain."""
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, argparse.Namespace, collections.OrderedDict, *_numpy_globals(),
            (_history_buffer_getattr, 'builtins.getattr')]


_ALLOWED = False


def allow_checkpoint_globals() -> None:
    """Register :func:`checkpoint_safe_globals` with torch's ``weights_only`` unpickler and
    route mmengine's checkpoint loading through :func:`load_checkpoint_file` (idempotent)."""
    global _ALLOWED
    if _ALLOWED:
        return
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allow-list (and does not default to weights_only)
        add(checkpoint_safe_globals())
    _install_mmengine_loaders()
    _ALLOWED = True


def _load_local(filename: str, map_location=None) -> Dict[str, Any]:
    """mmengine's local-file scheme, with an explicit ``weights_only=True``."""
    return load_checkpoint_file(os.path.expanduser(filename), map_location or 'cpu')


def _load_http(filename: str, map_location=None, model_dir=None, progress: bool = True):
    """mmengine's ``http(s)://`` scheme: download to the torch hub cache, load weights only."""
    return torch.hub.load_state_dict_from_url(filename, model_dir=model_dir,
                                              map_location=map_location or 'cpu',
                                              progress=progress, weights_only=True)


def _install_mmengine_loaders() -> None:
    """Make ``resume``, ``load_from`` and ``init_cfg=dict(type='Pretrained')`` weights-only.

    They all read files through mmengine's ``CheckpointLoader``, whose local and http loaders
    call ``torch.load`` without ``weights_only``: safe only while torch's default is True,
    which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (or an older torch) turns off. Replacing the
    two loaders makes every checkpoint we read go through the allow-list regardless.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_load_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=_load_http,
                                     force=True)


def load_checkpoint_file(path: Union[str, Path], map_location: str = 'cpu') -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and a clear error if it is refused.

    Args:
        path: a ``.pth`` file: an mmengine checkpoint, an official MAE/MAERec/LMIM
            checkpoint, or a bare state dict.
        map_location: passed to :func:`torch.load`.

    Returns:
        The unpickled object (a dict).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: the file pickles a global outside the allow-list (never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    allow_checkpoint_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError wrapped in varying types
        if 'Weights only load failed' in str(err) or 'weights_only' in str(err):
            raise RuntimeError(
                f'refusing to load {path}: it pickles objects outside the checkpoint allow-list '
                f'(mnsp_mm.utils.safe_load.checkpoint_safe_globals); nothing from it was '
                f'executed. torch said: {str(err).splitlines()[0]}') from None
        raise
