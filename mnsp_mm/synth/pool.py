"""Rendering many crops: in order, in parallel, into files.

Sample ``i`` of a data set with seed ``s`` is ``render_sample((s, i), cfg)``: it does not depend
on the other samples, so parallel, sharded or resumed rendering gives identical bytes.
"""
import functools
import multiprocessing
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Union

import cv2

from .config import SynthConfig
from .render import SynthSample, render_sample
from .writers import write_dataset


def _render_index(index: int, seed: int, cfg: SynthConfig) -> SynthSample:
    return render_sample((seed, index), cfg)


def render_pool(workers: int):
    """A process pool for :func:`iter_samples` (reuse one across data sets: starting one costs
    seconds). Workers come from a fork server: forking a parent that already runs
    torch/BLAS/OpenCV threads can deadlock its children. Use it as a context manager.
    """
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__, f'{__package__}.warm'])
    return context.Pool(workers, initializer=cv2.setNumThreads, initargs=(1,))


def iter_samples(num: int, seed: int, cfg: Optional[SynthConfig] = None,
                 workers: int = 1, pool=None) -> Iterator[SynthSample]:
    """Yield samples ``render_sample((seed, i), cfg)`` for ``i = 0 .. num - 1``, in order.

    Args:
        workers: processes to render in (a pool of them is started and closed here); the
            output does not depend on it.
        pool: a running :func:`render_pool` to render in instead (``workers`` is ignored).
    """
    job = functools.partial(_render_index, seed=seed, cfg=cfg or SynthConfig())
    if pool is not None:
        yield from pool.imap(job, range(num), chunksize=16)
    elif workers <= 1:
        yield from map(job, range(num))
    else:
        with render_pool(workers) as own:
            yield from own.imap(job, range(num), chunksize=16)


def render_dataset(out: Union[str, Path], num: int, seed: int,
                   cfg: Optional[SynthConfig] = None, fmt: Union[str, Sequence[str]] = ('json',),
                   labeled: bool = True, masks: bool = False, name: str = 'train',
                   workers: int = 1, image_ext: str = '.png') -> Dict[str, Path]:
    """Render ``num`` crops with ``seed`` and write them; see :func:`write_dataset`.

    Returns:
        ``{format: path}`` of what was written.
    """
    return write_dataset(out, iter_samples(num, seed, cfg, workers), fmt, labeled, masks,
                         name, image_ext)
