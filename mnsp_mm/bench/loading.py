"""The input stall: a config's real train dataloader (its ``num_workers`` etc.) feeding
training steps, time blocked in ``next(iter)`` against the whole step."""
import math
import time

from .device import timer
from .step import make_optimizer, train_step


def build_loader(cfg, scope: str, data: str, batch: int):
    """The config's train dataloader (its num_workers etc.) over the synthetic crops."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    loader = cfg.train_dataloader.copy()
    if scope == 'mmocr':
        loader.dataset = dict(type='OCRDataset', data_root=data,
                              ann_file='textrecog_train.json', pipeline=cfg.train_pipeline)
    else:
        loader.dataset = dict(loader.dataset, sources=[dict(type='lmdb',
                                                            path=f'{data}/lmdb/train')])
    loader.batch_size = batch
    with DefaultScope.overwrite_default_scope(scope):
        return Runner.build_dataloader(loader, seed=0), loader


def single_worker_load_s(loader) -> float:
    """Seconds to load and collate one batch in this process (one worker's cost)."""
    dataset, collate = loader.dataset, loader.collate_fn
    start = time.perf_counter()
    collate([dataset[i % len(dataset)] for i in range(loader.batch_size)])
    return time.perf_counter() - start


def measure_stall(model, cfg, scope: str, data: str, batch: int, steps: int,
                  device: str, dtype) -> dict:
    """Train ``steps`` steps from the real pipeline; time blocked on the loader vs total."""
    loader, loader_cfg = build_loader(cfg, scope, data, batch)
    opt, waits, totals = make_optimizer(model), [], []
    it = iter(loader)
    start = time.perf_counter()
    for step in range(steps + 1):
        begin = timer(device)
        batch_data = next(it)
        got = time.perf_counter()
        train_step(model, opt, model.data_preprocessor(batch_data, True), device, dtype)
        if step == 0:
            first = got - start
        else:
            waits.append(got - begin)
            totals.append(timer(device) - begin)
    load_s = single_worker_load_s(loader)
    step_s = sum(totals) / len(totals)
    return dict(num_workers=loader_cfg.get('num_workers', 0),
                persistent_workers=loader_cfg.get('persistent_workers', False),
                pin_memory=loader_cfg.get('pin_memory', False), batch=batch, steps=steps,
                first_batch_s=first, wait_s=sum(waits) / len(waits), step_s=step_s,
                stall_fraction=sum(waits) / sum(totals), load_s_one_worker=load_s,
                workers_to_keep_up=math.ceil(load_s / (step_s - sum(waits) / len(waits))))
