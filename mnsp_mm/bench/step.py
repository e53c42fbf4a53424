"""Building a config's model with random weights, and timing its training step."""
import statistics
from typing import Optional

import torch

from .device import autocast, timer


def build_model(config: str, cfg_options: Optional[dict] = None):
    """``(cfg, scope, model)``: the config's model with random weights (teachers included).

    Args:
        cfg_options: overrides, as ``--cfg-options`` takes them (``{'a.b': value}``).
    """
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS as OCR_MODELS
    from mmpretrain.registry import MODELS as PRE_MODELS

    from ..apis import load_config, scope_of
    cfg = load_config(config, cfg_options=cfg_options)
    scope = scope_of(cfg)
    teacher = cfg.model.get('target_generator')
    if teacher is not None and teacher.type == 'FrozenTeacher':
        teacher.update(checkpoint=None, random_init=True)
    if 'pretrained' in cfg.model.backbone:
        cfg.model.backbone.pretrained = None
    registry = OCR_MODELS if scope == 'mmocr' else PRE_MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg.model)
    model.init_weights()
    return cfg, scope, model


def dummy_inputs(model, batch: int):
    """Random normalised images in the structure the algorithm's pipeline packs.

    Each algorithm builds its own (``dummy_inputs``); an algorithm without one is refused
    with its name.
    """
    if not hasattr(model, 'dummy_inputs'):
        raise TypeError(f'{type(model).__name__} has no dummy_inputs(batch); add one that '
                        'returns random inputs packed as its pipeline packs them')
    return model.dummy_inputs(batch)


def to_device(inputs, device: str):
    """A batch tensor or a list of views on ``device``."""
    return [x.to(device) for x in inputs] if isinstance(inputs, list) else inputs.to(device)


def total_loss(losses: dict):
    """Sum of every ``loss*`` entry (a tensor or a list of tensors), as mmengine's parse."""
    return sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)


def make_optimizer(model):
    """AdamW over the trainable parameters (the optimiser's cost, not its schedule)."""
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)


def train_step(model, opt, data: dict, device: str, dtype) -> torch.Tensor:
    """Forward + backward + optimiser step on ``model(**data, mode='loss')``, under autocast
    when ``dtype`` is set (a GPU's; the levers' bf16 on a CPU).

    Args:
        data: ``inputs`` (a batch tensor or a list of views) and ``data_samples``.

    Returns:
        The step's total loss, detached.
    """
    with autocast(device, dtype):
        loss = total_loss(model(**data, mode='loss'))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def time_steps(model, opt, inputs, steps: int, warmup: int, device: str, dtype) -> list:
    """Seconds of each timed training step on fixed inputs."""
    times = []
    for step in range(warmup + steps):
        start = timer(device)
        train_step(model, opt, dict(inputs=inputs, data_samples=[]), device, dtype)
        if step >= warmup:
            times.append(timer(device) - start)
    return times


def interleaved(configs: dict, batch: int, rounds: int, warmup: int, device: str,
                dtype) -> dict:
    """Step times of the algorithms taken in turn, round after round, in this process.

    Load from other processes drifts over minutes; steps taken in turn see the same load,
    so the ratios of their medians stay meaningful on a shared machine.

    Args:
        configs: ``{algorithm: config path}``.
    """
    setups = {}
    for algo, config in configs.items():
        model = build_model(config)[2].to(device).train()
        setups[algo] = (model, make_optimizer(model), to_device(dummy_inputs(model, batch), device))
    times = {algo: [] for algo in setups}
    for round_ in range(warmup + rounds):
        for algo, (model, opt, inputs) in setups.items():
            step = time_steps(model, opt, inputs, 1, 0, device, dtype)[0]
            if round_ >= warmup:
                times[algo].append(step)
    return {algo: dict(step_times=t, median_s=statistics.median(t), best_s=min(t))
            for algo, t in times.items()}
