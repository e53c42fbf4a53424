"""Safe checkpoint loading under ``torch.load(weights_only=True)``.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default. That refuses any pickled
global outside a small allow-list, which breaks two formats we must read:

* mmengine's own checkpoints (``resume`` / ``load_from`` / ``init_cfg``): the message hub
  stores :class:`mmengine.logging.HistoryBuffer` objects holding numpy arrays and scalars.
* the official MAE / MAERec / LMIM checkpoints: ``{'model': ..., 'args': argparse.Namespace}``.

Instead of turning safety off, :func:`allow_checkpoint_globals` adds exactly those classes to
torch's allow-list, so a checkpoint that pickles any other callable (``os.system``, ...) is
still refused. ``import mnsp_mm`` calls it once; :func:`load_checkpoint_file` is the single
entry point our own code uses to read a checkpoint file, and every scheme of mmengine's
``CheckpointLoader`` (local, ``http(s)://``, ``torchvision://``, ``open-mmlab://``,
``mmcls://``, ``pavi://``, ``s3://``, ...) gets a loader that ends in the same weights-only
load (:data:`SCHEME_LOADERS`).
"""
import argparse
import collections
import contextlib
import io
import os
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


def _empty_bytes(*args) -> bytes:
    """The only ``bytes(...)`` call a checkpoint may make: ``bytes()``.

    Pickle protocol 2 (``torch.save``'s default) writes an empty ``bytes`` object as the
    call ``bytes()``; an empty numpy array, e.g. the history of a ``HistoryBuffer`` that
    holds no value yet, contains one. Any argument (``bytes(10**12)``) is refused.
    """
    if args:
        raise pickle.UnpicklingError(f'checkpoint asks for bytes{args!r}; only bytes() is '
                                     f'allowed')
    return b''


def checkpoint_safe_globals() -> List[Any]:
    """The exact list of non-tensor globals our supported checkpoint formats contain."""
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, argparse.Namespace, collections.OrderedDict, *_numpy_globals(),
            (_history_buffer_getattr, 'builtins.getattr'), (_empty_bytes, 'builtins.bytes')]


_ALLOWED = False


def allow_checkpoint_globals() -> None:
    """Register :func:`checkpoint_safe_globals` with torch's ``weights_only`` unpickler and
    make every mmengine checkpoint scheme load weights only (idempotent)."""
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
    """mmengine's ``http(s)://`` scheme: download to the torch hub cache, load weights only.

    As mmengine's loader, under DDP rank 0 downloads first and the others read its file.
    """
    from mmengine.dist import get_dist_info

    def load():
        allow_checkpoint_globals()
        with _named_refusal(filename):
            return torch.hub.load_state_dict_from_url(filename, model_dir=model_dir,
                                                      map_location=map_location or 'cpu',
                                                      progress=progress, weights_only=True)

    rank, world_size = get_dist_info()
    if rank == 0:
        checkpoint = load()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


def _load_torchvision(filename: str, map_location=None):
    """``torchvision://NAME`` (and the deprecated ``modelzoo://NAME``): a torchvision URL."""
    from mmengine.runner.checkpoint import get_torchvision_models
    name = filename.split('://', 1)[1]
    urls = get_torchvision_models()
    if name not in urls:
        raise KeyError(f'{filename}: {name!r} is not a torchvision model name')
    return _load_http(urls[name], map_location)


def _load_openmmlab(filename: str, map_location=None):
    """``open-mmlab://NAME`` / ``openmmlab://NAME``: a URL or a file below ``MMENGINE_HOME``."""
    from mmengine.runner.checkpoint import (_get_mmengine_home, get_deprecated_model_names,
                                            get_external_models)
    name = filename.split('://', 1)[1]
    name = get_deprecated_model_names().get(name, name)
    urls = get_external_models()
    if name not in urls:
        raise KeyError(f'{filename}: {name!r} is not in the open-mmlab model list '
                       f'(mmengine/hub/openmmlab.json or $MMENGINE_HOME/open_mmlab.json)')
    url = urls[name]
    if url.startswith(('http://', 'https://')):
        return _load_http(url, map_location)
    return load_checkpoint_file(os.path.join(_get_mmengine_home(), url), map_location or 'cpu')


def _load_mmcls(filename: str, map_location=None):
    """``mmcls://NAME``: an mmcls URL; the backbone weights only, as mmengine's loader."""
    from mmengine.runner.checkpoint import _process_mmcls_checkpoint, get_mmcls_models
    name = filename[len('mmcls://'):]
    urls = get_mmcls_models()
    if name not in urls:
        raise KeyError(f'{filename}: {name!r} is not in mmengine/hub/mmcls.json')
    return _process_mmcls_checkpoint(_load_http(urls[name], map_location))


def _load_pavi(filename: str, map_location=None):
    """``pavi://PATH``: download from the pavi model cloud to a temporary file, load it."""
    import tempfile
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(f'{filename}: loading from pavi:// needs the pavi package') from None
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, model.name)
        model.download(path)
        return load_checkpoint_file(path, map_location or 'cpu')


def _load_ceph(filename: str, map_location=None, backend: str = 'petrel'):
    """``s3://`` / ``petrel://`` (optionally ``CLUSTER:`` prefixed): read via mmengine's
    petrel file backend, load the bytes weights only."""
    from mmengine.fileio import get_file_backend
    data = get_file_backend(filename, backend_args={'backend': backend}).get(filename)
    return _weights_only_load(io.BytesIO(data), filename, map_location or 'cpu')


#: mmengine ``CheckpointLoader`` prefixes (the exact keys mmengine registers) -> our loader.
SCHEME_LOADERS = {
    '': _load_local,
    'http://': _load_http,
    'https://': _load_http,
    'modelzoo://': _load_torchvision,
    'torchvision://': _load_torchvision,
    'open-mmlab://': _load_openmmlab,
    'openmmlab://': _load_openmmlab,
    'mmcls://': _load_mmcls,
    'pavi://': _load_pavi,
    r'(\S+\:)?s3://': _load_ceph,
    r'(\S+\:)?petrel://': _load_ceph,
}


def _install_mmengine_loaders() -> None:
    """Make every mmengine checkpoint scheme weights-only.

    ``resume``, ``load_from`` and ``init_cfg=dict(type='Pretrained')`` read files through
    mmengine's ``CheckpointLoader``, whose loaders call ``torch.load`` (or
    ``torch.hub.load_state_dict_from_url``) without ``weights_only``, and its torchvision /
    open-mmlab / mmcls loaders call its http loader directly, not through the registry. So
    every prefix gets one of ours (:data:`SCHEME_LOADERS`), each ending in
    :func:`_weights_only_load`; :func:`unsafe_schemes` lists any prefix someone else added.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefix, loader in SCHEME_LOADERS.items():
        CheckpointLoader.register_scheme(prefixes=prefix, loader=loader, force=True)


def unsafe_schemes() -> List[str]:
    """Prefixes of ``CheckpointLoader`` whose loader is not one of ours (should be empty)."""
    from mmengine.runner.checkpoint import CheckpointLoader
    ours = set(SCHEME_LOADERS.values())
    return [p for p, loader in CheckpointLoader._schemes.items() if loader not in ours]


@contextlib.contextmanager
def _named_refusal(where: str):
    """Turn torch's ``weights_only`` refusal into one error naming ``where``."""
    try:
        yield
    except Exception as err:  # torch raises UnpicklingError wrapped in varying types
        if 'Weights only load failed' not in str(err) and 'weights_only' not in str(err):
            raise
        raise RuntimeError(
            f'refusing to load {where}: it pickles objects outside the checkpoint allow-list '
            f'(mnsp_mm.checkpoint.safe_load.checkpoint_safe_globals); nothing from it was '
            f'executed. torch said: {str(err).splitlines()[0]}') from None


def _weights_only_load(source, where: str, map_location, **kwargs) -> Dict[str, Any]:
    """``torch.load(source, weights_only=True)`` with the allow-list and a clear refusal."""
    allow_checkpoint_globals()
    with _named_refusal(where):
        return torch.load(source, map_location=map_location, weights_only=True, **kwargs)


def load_checkpoint_file(path: Union[str, Path], map_location: str = 'cpu',
                         mmap: bool = False) -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and a clear error if it is refused.

    Args:
        path: a ``.pth`` file: an mmengine checkpoint, an official MAE/MAERec/LMIM
            checkpoint, or a bare state dict.
        map_location: passed to :func:`torch.load`.
        mmap: memory-map the tensors instead of reading them (``torch.load(mmap=True)``).
            Only zip checkpoints (``torch.save``'s default since torch 1.6) can be mapped;
            a legacy one (``_use_new_zipfile_serialization=False``) is read in full instead.

    Returns:
        The unpickled object (a dict).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: the file pickles a global outside the allow-list (never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    return _weights_only_load(path, str(path), map_location, mmap=mmap and is_zip_checkpoint(path))


def is_zip_checkpoint(path: Union[str, Path]) -> bool:
    """True for a checkpoint in torch's zip format, the only one ``torch.load(mmap=True)`` reads.

    A legacy checkpoint (``torch.save(..., _use_new_zipfile_serialization=False)``, or one
    written by torch < 1.6) is a bare pickle stream; weights-only loading supports it, memory
    mapping does not (``RuntimeError: mmap can only be used with files saved with ...``).
    """
    import zipfile
    return zipfile.is_zipfile(path)
