"""Speed levers side by side: each algorithm's step with every lever on and off, in one process.

A *lever* is one way of running the same training step, ``fp32`` (eager, every switch off:
the reference) or a ``+``-joined set of switches, each one a config switch a run can use:

* ``bf16``: the forward under ``torch.autocast(device, torch.bfloat16)``, what
  ``optim_wrapper.type='BF16OptimWrapper'`` (``tools/train.py --amp`` on a CPU) does;
* ``cl``: the conv stem on NHWC tensors, ``model.backbone.stem_channels_last=True`` (and
  the teacher's, if any; conv-stem configs only; ``fp32`` sets it False);
* ``compile``: ``torch.compile`` of the model (its forward in loss mode; the runner's
  ``compile=True``).

Each is measured at every requested intra-op thread count.

Every (algorithm, lever, threads) setup gets its own model, built from the same seed, and its
own optimiser; their steps are then taken in turn, round after round, so a drifting load
falls on all of them alike and the ratios to ``fp32`` at the same thread count are the
figures to trust. Compilation happens in the untimed first step and is reported apart
(``compile_s``), since it counts against a run's budget. ``loss_rel_diff`` is the relative
difference of the first step's loss from ``fp32``'s on the same inputs and weights: a quick
check that the lever computes the same objective (the loss curves of real runs are compared
by the study, docs/performance.md).
"""
import statistics
from typing import Dict, List, Sequence

import torch

from .device import timer
from .step import build_model, dummy_inputs, make_optimizer, to_device, train_step

SWITCHES = ('bf16', 'cl', 'compile')


def switches(lever: str) -> set:
    """The switches of a lever name: ``'fp32'`` -> none, ``'cl+bf16'`` -> {cl, bf16}."""
    return set() if lever == 'fp32' else set(lever.split('+'))


def _check(levers: Sequence[str], threads: Sequence[int]) -> None:
    unknown = [lever for lever in levers if not switches(lever) <= set(SWITCHES)]
    if unknown:
        raise ValueError(f"unknown lever(s) {unknown}; a lever is 'fp32' or switches from "
                         f"{list(SWITCHES)} joined by '+' (e.g. 'cl+bf16')")
    if 'fp32' not in levers:
        raise ValueError(f"levers {list(levers)} lack 'fp32', the reference of every ratio")
    if not threads or any(t < 1 for t in threads):
        raise ValueError(f'threads must be positive integers, got {list(threads)}')


def channels_last_options(config: str, on: bool) -> dict:
    """The ``cl`` switch for ``config``, on or off: its backbone's stem and its teacher's.

    Set either way on a conv-stem config, so ``fp32`` is the step with every switch off even
    where the config turns one on (the demo's do). On a patch-stem config ``on`` is passed
    through, and the backbone refuses it by name.
    """
    from ..apis import load_config
    model = load_config(config).model
    if model.backbone.get('stem', 'patch') != 'conv' and not on:
        return {}
    options = {'model.backbone.stem_channels_last': on}
    if 'backbone' in (model.get('target_generator') or {}):
        options['model.target_generator.backbone.stem_channels_last'] = on
    return options


class _Setup:
    """One (algorithm, lever, threads): its model, optimiser, inputs and step function."""

    def __init__(self, config: str, lever: str, threads: int, batch: int, device: str,
                 seed: int):
        on = switches(lever)
        torch.manual_seed(seed)
        self.model = build_model(config, channels_last_options(config, 'cl' in on)
                                 )[2].to(device).train()
        self.opt = make_optimizer(self.model)
        torch.manual_seed(seed + 1)
        self.data = dict(inputs=to_device(dummy_inputs(self.model, batch), device),
                         data_samples=[])
        self.threads, self.device = threads, device
        self.dtype = torch.bfloat16 if 'bf16' in on else None
        self.forward = torch.compile(self.model) if 'compile' in on else self.model

    def step(self) -> float:
        """One forward + backward + AdamW step (:func:`.step.train_step`); its loss."""
        torch.set_num_threads(self.threads)
        return float(train_step(self.forward, self.opt, self.data, self.device, self.dtype))


def lever_rows(configs: Dict[str, str], batch: int, rounds: int, levers: Sequence[str],
               threads: Sequence[int], device: str = 'cpu', seed: int = 0) -> List[dict]:
    """Step times of every (algorithm, lever, threads), taken in turn for ``rounds`` rounds.

    Args:
        configs: ``{algorithm: config path}``.
        levers: ``'fp32'`` (required) and ``+``-joined :data:`SWITCHES`.
        threads: intra-op thread counts, each measured for every lever.

    Returns:
        One dict per setup: ``algo, lever, threads, median_s, best_s, images_per_s,
        x_fp32`` (fp32's median at the same threads / this median: > 1 is faster),
        ``compile_s`` (the first step minus the median; 0 without compile), ``loss_rel_diff``
        and ``step_times``.
    """
    _check(levers, threads)
    start_threads = torch.get_num_threads()
    setups = {(algo, lever, t): _Setup(config, lever, t, batch, device, seed)
              for algo, config in configs.items() for t in threads for lever in levers}
    first_s, first_loss = {}, {}
    for key, s in setups.items():  # untimed: compilation, allocator warm-up
        torch.manual_seed(seed + 2)  # the same random masks for every setup's first step
        t0 = timer(device)
        first_loss[key] = s.step()
        first_s[key] = timer(device) - t0
    times = {key: [] for key in setups}
    for _ in range(rounds):
        for key, s in setups.items():
            t0 = timer(device)
            s.step()
            times[key].append(timer(device) - t0)
    torch.set_num_threads(start_threads)
    rows = []
    for (algo, lever, t), ts in times.items():
        median = statistics.median(ts)
        ref = statistics.median(times[(algo, 'fp32', t)])
        ref_loss = first_loss[(algo, 'fp32', t)]
        rows.append(dict(algo=algo, lever=lever, threads=t, median_s=median, best_s=min(ts),
                         images_per_s=batch / median, x_fp32=ref / median,
                         compile_s=max(0.0, first_s[(algo, lever, t)] - median)
                         if 'compile' in switches(lever) else 0.0,
                         loss_rel_diff=abs(first_loss[(algo, lever, t)] - ref_loss)
                         / max(abs(ref_loss), 1e-12),
                         step_times=ts))
    return rows
