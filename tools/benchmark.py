"""MAE, LMIM and MNSP pretraining side by side, the recogniser's decoding, and data loading.

    python tools/benchmark.py                            # paper-size ViT-S/4 at 32x128, batch 16
    python tools/benchmark.py --batch 64 --steps 10 --out work_dirs/bench.json
    python tools/benchmark.py --tiny --steps 2           # the tiny CPU configs (a smoke)
    python tools/benchmark.py --interleave-only --interleave 3   # just the ratios, robustly
    python tools/benchmark.py --guidance-only            # just LMIM's guidance view, per preset

One command measures, for each pretraining algorithm: the training step (forward + backward
+ AdamW on fixed random images of the shape its pipeline produces; teachers keep random
weights, same compute as trained ones), images/s, peak memory, forward FLOPs per image
(mmengine's FlopAnalyzer), achieved FLOP/s against this machine's measured matmul peak, a
per-part breakdown of the step, and the data-loading stall of its real pipeline with the
config's ``num_workers`` on synthetic crops. For the MAERec recogniser: greedy decoding
latency and images/s (MMOCR's full-prefix recomputation, our key/value cache, and the cache
with early exit), FLOPs, and the fine-tuning pipeline's stall. Then the algorithms' steps
are taken in turn in this process for a few rounds: on a shared machine whose load drifts,
the ratios of those medians are the ones to trust. Last, LMIM's guidance view on one core:
milliseconds per crop for each ``TextGuidanceAug`` preset and for the official imgaug
pipeline, and the dataloader workers per GPU that each implies at a GPU step time.

Conventions (also written into the output):
* ``GMAC``: mmengine counts one multiply-add as one "flop"; we print it as MAC.
* ``GFLOP`` = 2 x GMAC, the convention of the matmul peak (2*M*N*K per (M,K)@(K,N)).
* training FLOPs per image = 2 x (3 x forward MACs of the trained parts + 1 x the frozen
  teacher's forward MACs): backward costs about twice the forward; the teacher has none.
* stall = time blocked in ``next(dataloader_iter)`` / (that + model step), first batch
  (worker start-up) excluded and reported on its own.
Results go to a JSON file and a markdown file beside it, with the machine and versions.
On a GPU the steps run under autocast (bf16 when supported, else fp16).
"""
import argparse
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    'paper': {
        'mae': 'configs/pretrain/mae_text-vit-s_union14m-u.py',
        'lmim': 'configs/pretrain/lmim_text-vit-s_union14m-u_10e.py',
        'mnsp': 'configs/pretrain/mnsp_text-vit-s_union14m-u_10e.py',
    },
    'tiny': {
        'mae': 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py',
        'lmim': 'configs/pretrain/lmim_text-vit-tiny_synth-cpu.py',
        'mnsp': 'configs/pretrain/mnsp_text-vit-tiny_synth-cpu.py',
    },
}
RECOGNIZER_CONFIGS = {'paper': 'configs/finetune/maerec-s_union14m-l.py',
                      'tiny': 'configs/finetune/maerec_text-vit-tiny_synth-cpu.py'}
CONVENTIONS = [
    'GMAC: multiply-adds (what mmengine FlopAnalyzer calls flops); GFLOP = 2 x GMAC.',
    'train GFLOP / image = 2 x (3 x forward GMAC of the trained parts + 1 x frozen teacher).',
    'achieved = train GFLOP / image x images/s; peak = best fp32 (bf16 on GPU) matmul, 2*M*N*K.',
    'stall = time blocked in next(dataloader_iter) / (that + model step), first batch excluded.',
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--algos', nargs='+', default=['mae', 'lmim', 'mnsp'],
                   choices=['mae', 'lmim', 'mnsp'])
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--steps', type=int, default=5, help='timed steps')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    p.add_argument('--tiny', action='store_true', help='the tiny CPU configs')
    p.add_argument('--profile-repeats', type=int, default=2,
                   help='timed runs of the per-part breakdown (0 skips it)')
    p.add_argument('--stall-steps', type=int, default=4,
                   help='steps on the real pipelines to measure the input stall (0 skips)')
    p.add_argument('--no-flops', action='store_true', help='skip the FLOP analysis')
    p.add_argument('--decode-batch', type=int, default=32, help='0 skips decoding')
    p.add_argument('--decode-repeats', type=int, default=1, help='timed decoding runs')
    p.add_argument('--interleave', type=int, default=2,
                   help='rounds of steps taken in turn by every algorithm in one process, '
                        'for ratios that a busy machine does not skew (0 skips)')
    p.add_argument('--interleave-only', action='store_true',
                   help='only the interleaved rounds (no workers, decoding or loading)')
    p.add_argument('--guidance-only', action='store_true',
                   help="only the guidance view's cost per crop (a few seconds)")
    p.add_argument('--guidance-crops', type=int, default=None,
                   help='rendered crops per size for the guidance-view timing (default 200, '
                        'with --tiny 4; 0 skips it)')
    p.add_argument('--gpu-step-s', type=float, default=0.1,
                   help='GPU step time the workers per GPU are computed for (default 0.1 s: '
                        'an LMIM ViT-S/4 step of 64 crops, see docs/performance.md)')
    p.add_argument('--gpu-batch', type=int, default=64,
                   help='crops per GPU step (default 64, the LMIM configs)')
    p.add_argument('--out', default='work_dirs/benchmark/pretrain_steps.json')
    p.add_argument('--worker', help=argparse.SUPPRESS)  # internal: one config in this process
    p.add_argument('--data', help=argparse.SUPPRESS)  # internal: the synthetic crops
    args = p.parse_args()
    if args.guidance_crops is None:
        args.guidance_crops = 4 if args.tiny else 200
    return args


# --------------------------------------------------------------------------- device
def device_and_dtype():
    """``('cuda', bf16 or fp16)`` on a GPU (the autocast dtype), else ``('cpu', None)``."""
    import torch
    if not torch.cuda.is_available():
        return 'cpu', None
    return 'cuda', torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: str, dtype):
    import torch
    return torch.autocast(device, dtype=dtype, enabled=dtype is not None)


def timer(device: str) -> float:
    """``time.perf_counter`` after the device has finished its queued work."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter()


def peak_mb(device: str) -> float:
    """Peak memory: CUDA allocations on a GPU, the process's peak RSS on a CPU."""
    import torch
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(device: str, dtype) -> float:
    """Best of several timed square matmuls, 2*n^3 FLOP each (fp32 on CPU)."""
    import torch
    n = 2048 if device == 'cpu' else 8192
    a, b = (torch.randn(n, n, device=device, dtype=dtype or torch.float32) for _ in range(2))
    best = float('inf')
    for _ in range(8):
        start = timer(device)
        a @ b
        best = min(best, timer(device) - start)
    return 2 * n**3 / best / 1e9


# --------------------------------------------------------------------------- models
def build_model(config: str):
    """The config's model (random weights, teachers included) and its registry scope."""
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS as OCR_MODELS
    from mmpretrain.registry import MODELS as PRE_MODELS

    from mnsp_mm.apis import load_config, scope_of
    cfg = load_config(config)
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
    """Random normalised images in the structure the algorithm's pipeline packs."""
    import torch
    import torch.nn.functional as F
    h, w = model.backbone.img_size
    full = torch.randn(batch, 3, h, w)
    kind = type(model).__name__
    if kind == 'MNSP':
        views = [F.interpolate(full, size=s, mode='area') for s in model.scales[:-1]] + [full]
        return views + [full.flip(-1)] if model.use_guidance else views
    if kind == 'LMIM':
        return [full, full.flip(-1)] if model.use_guidance else full
    return full


def to_device(inputs, device: str):
    return [x.to(device) for x in inputs] if isinstance(inputs, list) else inputs.to(device)


def total_loss(losses: dict):
    """Sum of every ``loss*`` entry (a tensor or a list of tensors), as mmengine's parse."""
    return sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)


def train_step(model, opt, data: dict, device: str, dtype) -> None:
    """Forward + backward + optimiser step on ``model(**data, mode='loss')``, autocast on a GPU.

    Args:
        data: ``inputs`` (a batch tensor or a list of views) and ``data_samples``.
    """
    with autocast(device, dtype):
        loss = total_loss(model(**data, mode='loss'))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def make_optimizer(model):
    import torch
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)


def time_steps(model, opt, inputs, steps: int, warmup: int, device: str, dtype) -> list:
    """Seconds of each timed training step on fixed inputs."""
    times = []
    for step in range(warmup + steps):
        start = timer(device)
        train_step(model, opt, dict(inputs=inputs, data_samples=[]), device, dtype)
        if step >= warmup:
            times.append(timer(device) - start)
    return times


# --------------------------------------------------------------------------- FLOPs
def sdpa_macs(inputs, outputs) -> int:
    """FlopAnalyzer handle of ``aten::scaled_dot_product_attention`` (mmengine has none).

    q (..., L, E) @ k^T (..., E, S) and weights (..., L, S) @ v (..., S, Ev): L*S*(E + Ev)
    multiply-adds per batch-and-head element.
    """
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    return math.prod(q[:-2]) * q[-2] * k[-2] * (q[-1] + v[-1])


def count_macs(module, inputs: tuple):
    """``(total, by_module)`` multiply-adds of ``module(*inputs)`` by mmengine's FlopAnalyzer."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_macs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return analyzer.total(), analyzer.by_module()


class LossOf:
    """Builds a module whose forward is the algorithm's summed training loss (for tracing)."""

    @staticmethod
    def wrap(model):
        import torch

        class _Loss(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, *views):
                inputs = list(views) if len(views) > 1 else views[0]
                return total_loss(self.model.loss(inputs, []))
        return _Loss()


def pretrain_flops(model, device: str) -> dict:
    """Forward GMAC per image (teacher apart) and the training GFLOP estimate."""
    inputs = to_device(dummy_inputs(model, 1), device)
    inputs = tuple(inputs) if isinstance(inputs, list) else (inputs, )
    total, by_module = count_macs(LossOf.wrap(model), inputs)
    teacher = by_module.get('model.target_generator', 0)
    return dict(forward_gmac=total / 1e9, teacher_gmac=teacher / 1e9,
                train_gflop=2 * (3 * (total - teacher) + teacher) / 1e9)


# --------------------------------------------------------------------------- breakdown
def _leaf(x):
    return x.detach().requires_grad_()


def step_parts(model, inputs) -> list:
    """``[(name, fn)]``: the step's parts in order; ``fn()`` returns what to backpropagate.

    Each part reads its inputs as detached leaves, so its backward stops at its boundary
    and the parts' times add up to about one step.
    """
    views, st = (list(inputs) if isinstance(inputs, list) else [inputs]), {}
    kind, head = type(model).__name__, model.head.loss

    def masked(view):
        def run():
            st['out'] = model.backbone.forward_masked(view)
            return st['out'].tokens
        return run

    def teacher(fn):
        def run():
            st['target'] = fn()
        return run

    if kind == 'TextMAE':
        return [('encoder, masked view', masked(views[0])),
                ('decoder + loss', lambda: head(model.neck(_leaf(st['out'].tokens),
                                                           st['out'].ids_restore),
                                                views[0], st['out'].mask))]
    if kind == 'LMIM':
        return [('teacher (no grad)', teacher(lambda: model.target_generator(views[0]))),
                ('encoder, masked view', masked(views[0])),
                ('encoder, guidance view',
                 lambda: st.setdefault('guide', model.backbone.encode_image(views[1]))),
                ('decoder + loss + alignment', lambda: head(
                    model.neck(_leaf(st['out'].tokens), st['out'].ids_restore,
                               _leaf(st['guide'])), st['target'], st['out'].mask))]
    if kind != 'MNSP' or model.use_guidance:
        raise NotImplementedError(f'no breakdown for {kind} with these settings')
    pyramid = views[:len(model.scales)]

    def coarse():
        st['ctx'], st['sizes'] = model.encode_coarse(pyramid[:-1])
        return st['ctx']

    def mim():
        out = st['out']
        pred = model.neck(_leaf(out.tokens), out.ids_restore, _leaf(st['ctx']))
        return head(pred, st['target'][-1], out.mask)

    def mla():
        starts = [sum(st['sizes'][:k]) for k in range(len(st['sizes']))]
        full_cls, ctx = _leaf(st['out'].tokens[:, 0]), _leaf(st['ctx'])
        import torch.nn.functional as F
        return sum(F.mse_loss(ctx[:, s], full_cls) for s in starts) / len(starts)
    return [('teacher (no grad, once)',
             teacher(lambda: model.target_generator.pyramid(pyramid, model.grids))),
            ('encoder, coarse scales (block-causal)', coarse),
            ('encoder, full scale masked', masked(pyramid[-1])),
            ('NSP decoder + loss',
             lambda: model.nsp_loss(_leaf(st['ctx']), st['sizes'], st['target'])),
            ('MIM decoder + loss', mim),
            ('MLA', mla)]


def time_part(fn, device: str, dtype) -> tuple:
    """``(forward s, backward s)`` of one part (backward of ones when not a scalar)."""
    import torch
    start = timer(device)
    with autocast(device, dtype):
        out = fn()
    mid = timer(device)
    if out is not None and out.requires_grad:
        out.backward(torch.ones_like(out))
    return mid - start, timer(device) - mid


def breakdown(model, opt, inputs, repeats: int, device: str, dtype) -> list:
    """Mean forward / backward seconds per part, and the optimiser step, over ``repeats``."""
    rows = {}
    for _ in range(repeats):
        for name, fn in step_parts(model, inputs):
            fwd, bwd = time_part(fn, device, dtype)
            row = rows.setdefault(name, [0., 0.])
            row[0] += fwd / repeats
            row[1] += bwd / repeats
        start = timer(device)
        opt.step()  # on the parts' accumulated gradients: same work as a real step
        row = rows.setdefault('optimizer (AdamW)', [0., 0.])
        row[0] += (timer(device) - start) / repeats
        opt.zero_grad(set_to_none=True)
    return [dict(part=k, forward_s=f, backward_s=b) for k, (f, b) in rows.items()]


# --------------------------------------------------------------------------- data loading
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


# --------------------------------------------------------------------------- guidance view
def bench_guidance(crops: int, gpu_step_s: float, gpu_batch: int, passes: int = 3) -> dict:
    """LMIM's guidance view on one core: ms per crop per preset, and the imgaug reference.

    Crops from the synthetic renderer (32x128) and the same crops at 64x256 (bicubic); each
    row is the best of ``passes`` passes over the crops (numpy / torch seeded per pass), in
    this process with one torch and one OpenCV thread, timed in process CPU time (what a
    dataloader worker on its own core spends; other processes on a shared machine do not
    count). ``workers_per_gpu`` = ``ceil(gpu_batch * s per crop / gpu_step_s)``: worker
    processes that keep one GPU fed.
    """
    import cv2
    import numpy as np
    import torch
    from mnsp_mm.datasets.guidance import PRESETS, TextGuidanceAug, resolve_preset
    from mnsp_mm.datasets.guidance_reference import imgaug_pipeline
    from mnsp_mm.datasets.synth import preset, render_sample
    small = [render_sample(i, preset('default')).image for i in range(crops)]
    sizes = {'32x128': small,
             '64x256': [cv2.resize(x, (256, 64), interpolation=cv2.INTER_CUBIC) for x in small]}
    runs = {name: (lambda t: lambda img: t(dict(img=img))['img'])(TextGuidanceAug(preset=name))
            for name in PRESETS}
    runs['official, imgaug (reference)'] = imgaug_pipeline(resolve_preset('official', {}))
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    rows = []
    try:
        for size, imgs in sizes.items():
            for name, run in runs.items():
                best = math.inf
                for k in range(passes):
                    np.random.seed(k)
                    torch.manual_seed(k)
                    start = time.process_time()
                    for img in imgs:
                        run(img)
                    best = min(best, (time.process_time() - start) / len(imgs))
                rows.append(dict(preset=name, size=size, ms_per_crop=1e3 * best,
                                 workers_per_gpu=math.ceil(gpu_batch * best / gpu_step_s)))
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv_threads)
    return dict(crops=crops, passes=passes, gpu_step_s=gpu_step_s, gpu_batch=gpu_batch,
                rows=rows)


# --------------------------------------------------------------------------- workers
def run_pretrain_worker(args, cfg, scope, model, device, dtype) -> dict:
    """Step time, peak memory, FLOPs, breakdown and stall of one pretraining algorithm."""
    model.to(device).train()
    opt = make_optimizer(model)
    inputs = to_device(dummy_inputs(model, args.batch), device)
    times = time_steps(model, opt, inputs, args.steps, args.warmup, device, dtype)
    step_s = sum(times) / len(times)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out = dict(config=args.worker, device=device, batch=args.batch, steps=len(times),
               step_s=step_s, best_step_s=min(times), images_per_s=args.batch / step_s,
               peak_mb=peak_mb(device),
               trainable_params_m=trainable / 1e6, step_times=times)
    if args.profile_repeats:
        out['breakdown'] = breakdown(model, opt, inputs, args.profile_repeats, device, dtype)
    if not args.no_flops:
        out['flops'] = pretrain_flops(model, device)
    if args.stall_steps and args.data:
        out['stall'] = measure_stall(model, cfg, scope, args.data, args.batch,
                                     args.stall_steps, device, dtype)
    return out


@contextlib.contextmanager
def end_after(decoder, step: int):
    """Make the decoder's classifier emit the end token from greedy step ``step`` on.

    Random weights never end a word; this stands in for a trained decoder reading words of
    at most ``step`` characters, so early exit is timed on the code path it really takes.
    """
    calls = [0]

    def hook(module, inputs, output):
        calls[0] += 1
        if calls[0] <= step:
            return output
        output = output.clone()
        output[..., decoder.dictionary.end_idx] = output.max() + 1
        return output
    handle = decoder.classifier.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def decode(decoder, feat, data, end=None):
    """One greedy decode; with ``end``, the end token is forced from step ``end`` on."""
    with end_after(decoder, end) if end is not None else contextlib.nullcontext():
        return decoder.forward_test(feat, None, data)


def decoding_modes(longest: int):
    """``(name, cache_kv, end step or None)`` of each timed decoding mode."""
    return [('full recompute (MMOCR)', False, None), ('kv cache', True, None),
            (f'kv cache + early exit (words <= {longest} chars)', True, longest)]


def bench_decoding(model, batch: int, repeats: int, longest: int, device: str, dtype) -> dict:
    """Greedy decoding latency / images/s per mode, the encoder timed once beside it."""
    import torch
    from mmocr.structures import TextRecogDataSample
    model.to(device).eval()
    decoder = model.decoder
    images = torch.randn(batch, 3, *model.backbone.img_size, device=device)
    data = [TextRecogDataSample(metainfo=dict(valid_ratio=1.0)) for _ in range(batch)]
    out = dict(batch=batch, max_seq_len=decoder.max_seq_len, rows=[])
    preds = {}
    with torch.no_grad(), autocast(device, dtype):
        model.backbone(images[:2])
        start = timer(device)
        feat = model.backbone(images)
        out['encoder_s'] = timer(device) - start
        for name, cache, end in decoding_modes(longest):
            decoder.cache_kv, decoder.early_exit = cache, end is not None
            decode(decoder, feat[:2], data[:2], end)  # warm-up
            start = timer(device)
            for _ in range(repeats):
                preds[name] = decode(decoder, feat, data, end).argmax(-1)
            latency = (timer(device) - start) / repeats
            total = latency + out['encoder_s']
            out['rows'].append(dict(mode=name, steps=end + 1 if end else decoder.max_seq_len,
                                    decoder_s=latency, latency_s=total,
                                    images_per_s=batch / total))
    full, cached = (preds[name] for name, _, _ in decoding_modes(longest)[:2])
    out['same_predictions'] = bool(torch.equal(full, cached))
    out['speedup'] = out['rows'][0]['decoder_s'] / out['rows'][1]['decoder_s']
    decoder.cache_kv, decoder.early_exit = True, True
    return out


def recognizer_flops(model, device: str) -> dict:
    """GMAC per image of the encoder and of a full-length greedy decode, per decoding mode."""
    import torch
    from mmocr.structures import TextRecogDataSample
    model.to(device).eval()
    image = torch.randn(1, 3, *model.backbone.img_size, device=device)
    encoder, _ = count_macs(model.backbone, (image, ))
    feat = model.backbone(image)
    data = [TextRecogDataSample(metainfo=dict(valid_ratio=1.0))]
    decoder, out = model.decoder, dict(encoder_gmac=encoder / 1e9)
    decoder.early_exit = False

    class _Decode(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = decoder

        def forward(self, x):
            return self.decoder.forward_test(x, None, data)
    for key, cache in (('decoder_full_gmac', False), ('decoder_cached_gmac', True)):
        decoder.cache_kv = cache
        out[key] = count_macs(_Decode(), (feat, ))[0] / 1e9
    decoder.cache_kv, decoder.early_exit = True, True
    return out


def longest_label(data: str, batch: int) -> int:
    """Characters of the longest label among the first ``batch`` synthetic crops."""
    labels = json.loads(Path(data, 'textrecog_train.json').read_text())['data_list'][:batch]
    return max(len(d['instances'][0]['text']) for d in labels)


def run_recognizer_worker(args, cfg, scope, model, device, dtype) -> dict:
    """Decoding speed and FLOPs of the recogniser, and the fine-tuning pipeline's stall."""
    out = dict(config=args.worker, device=device)
    if args.stall_steps and args.data:
        model.to(device).train()
        out['stall'] = measure_stall(model, cfg, scope, args.data, args.batch,
                                     args.stall_steps, device, dtype)
    if args.decode_batch:
        longest = min(longest_label(args.data, args.decode_batch), model.decoder.max_seq_len - 1)
        out['decoding'] = bench_decoding(model, args.decode_batch, args.decode_repeats,
                                         longest, device, dtype)
    if not args.no_flops:
        out['flops'] = recognizer_flops(model, device)
    return out


def run_worker(args) -> dict:
    """Benchmark one config in this process (pretraining or recognition, by its scope)."""
    import mnsp_mm  # noqa: F401  (registers our modules)
    cfg, scope, model = build_model(args.worker)
    device, dtype = device_and_dtype()
    runner = run_recognizer_worker if scope == 'mmocr' else run_pretrain_worker
    return runner(args, cfg, scope, model, device, dtype)


def run_interleaved(args, size: str) -> dict:
    """Step times of the algorithms taken in turn, round after round, in this process.

    Load from other processes drifts over minutes; steps taken in turn see the same load,
    so the ratios of their medians stay meaningful on a shared machine.
    """
    import mnsp_mm  # noqa: F401  (registers our modules)
    device, dtype = device_and_dtype()
    setups = {}
    for algo in args.algos:
        model = build_model(CONFIGS[size][algo])[2].to(device).train()
        setups[algo] = (model, make_optimizer(model),
                        to_device(dummy_inputs(model, args.batch), device))
    times = {algo: [] for algo in setups}
    for round_ in range(args.warmup + args.interleave):
        for algo, (model, opt, inputs) in setups.items():
            step = time_steps(model, opt, inputs, 1, 0, device, dtype)[0]
            if round_ >= args.warmup:
                times[algo].append(step)
    return {algo: dict(step_times=t, median_s=statistics.median(t), best_s=min(t))
            for algo, t in times.items()}


# --------------------------------------------------------------------------- main process
def machine() -> dict:
    import mmengine
    import mmocr
    import mmpretrain
    import torch
    return dict(python=platform.python_version(), torch=torch.__version__,
                mmengine=mmengine.__version__, mmpretrain=mmpretrain.__version__,
                mmocr=mmocr.__version__,
                cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                torch_threads=torch.get_num_threads(),
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                load_average=os.getloadavg()[0], date=time.strftime('%Y-%m-%d %H:%M'))


def render_data(out_dir: Path, num: int) -> Path:
    """Fresh synthetic crops (labelled json + png, and an LMDB) for the pipelines."""
    from mnsp_mm.synth import render_dataset
    data = out_dir / 'synth_data'
    shutil.rmtree(data, ignore_errors=True)
    render_dataset(data, num, seed=0, fmt=('json', 'lmdb'))
    return data


def spawn(args, config: str, data: Path, **overrides) -> dict:
    """Run one worker in a child process and return its JSON result."""
    opts = dict(batch=args.batch, steps=args.steps, warmup=args.warmup,
                profile_repeats=args.profile_repeats, stall_steps=args.stall_steps,
                decode_batch=args.decode_batch, decode_repeats=args.decode_repeats, **overrides)
    cmd = [sys.executable, __file__, '--worker', config, '--data', str(data)]
    for key, value in opts.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    cmd += ['--no-flops'] if args.no_flops else []
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f'{config} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def add_efficiency(results: dict, peak_gflops: float) -> None:
    """Achieved training GFLOP/s and its fraction of the matmul peak, per algorithm."""
    for r in results.values():
        if 'flops' in r:
            r['achieved_gflops'] = r['flops']['train_gflop'] * r['images_per_s']
            r['fraction_of_peak'] = r['achieved_gflops'] / peak_gflops


def main():
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    size = 'tiny' if args.tiny else 'paper'
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.interleave_only:
        result = dict(size=size, batch=args.batch, machine=machine(),
                      interleaved=run_interleaved(args, size))
        out.write_text(json.dumps(result, indent=2))
        table = '\n'.join(interleaved_table(result)) + '\n'
        out.with_suffix('.md').write_text(table)
        print(table + f'\nwritten: {out} and {out.with_suffix(".md")}')
        return
    if args.guidance_only:
        result = dict(machine=machine(), guidance=bench_guidance(
            args.guidance_crops, args.gpu_step_s, args.gpu_batch))
        out.write_text(json.dumps(result, indent=2))
        table = '\n'.join(guidance_table(result)) + '\n'
        out.with_suffix('.md').write_text(table)
        print(table + f'\nwritten: {out} and {out.with_suffix(".md")}')
        return
    data = render_data(out.parent, max(args.batch * (args.stall_steps + 2), args.decode_batch))
    device, dtype = device_and_dtype()
    peak = matmul_peak_gflops(device, dtype)
    print(f'matmul peak: {peak:.0f} GFLOP/s', flush=True)
    results = {}
    # One command, one run; each config in a fresh child process so its peak memory
    # (RSS / max_memory_allocated) and allocator state are its own.
    for algo in args.algos:
        results[algo] = spawn(args, CONFIGS[size][algo], data)
        print(f"{algo}: {results[algo]['step_s']:.3f} s/step, "
              f"{results[algo]['images_per_s']:.1f} images/s", flush=True)
    add_efficiency(results, peak)
    result = dict(size=size, batch=args.batch, machine=machine(), matmul_peak_gflops=peak,
                  autocast=str(dtype) if dtype else None, conventions=CONVENTIONS,
                  results=results)
    if args.decode_batch or args.stall_steps:
        result['recognizer'] = spawn(args, RECOGNIZER_CONFIGS[size], data)
        print('recognizer: done', flush=True)
    if args.interleave:
        result['interleaved'] = run_interleaved(args, size)
    if args.guidance_crops:
        result['guidance'] = bench_guidance(args.guidance_crops, args.gpu_step_s, args.gpu_batch)
    out.write_text(json.dumps(result, indent=2))
    table = to_markdown(result)
    out.with_suffix('.md').write_text(table)
    print(table + f'\nwritten: {out} and {out.with_suffix(".md")}')


# --------------------------------------------------------------------------- markdown
def _fmt(value, spec: str) -> str:
    return '-' if value is None else format(value, spec)


def pretrain_table(result: dict) -> list:
    base = result['results'].get('mae', {}).get('step_s')
    lines = ['| algorithm | s / step | best s / step | images / s | peak MB | '
             'trainable M params | fwd GMAC / image | train GFLOP / image | '
             'achieved GFLOP/s | % of peak | x MAE |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for name, r in result['results'].items():
        flops = r.get('flops', {})
        lines.append(
            f"| {name} | {r['step_s']:.3f} | {_fmt(r.get('best_step_s'), '.3f')} | "
            f"{r['images_per_s']:.1f} | {r['peak_mb']:.0f} | "
            f"{r['trainable_params_m']:.1f} | {_fmt(flops.get('forward_gmac'), '.2f')} | "
            f"{_fmt(flops.get('train_gflop'), '.1f')} | "
            f"{_fmt(r.get('achieved_gflops'), '.1f')} | "
            f"{_fmt(r.get('fraction_of_peak') and 100 * r['fraction_of_peak'], '.0f')} | "
            f"{_fmt(base and r['step_s'] / base, '.2f')} |")
    return lines


def interleaved_table(result: dict) -> list:
    runs = result['interleaved']
    m = result['machine']
    base = runs.get('mae')
    lines = [f"Steps taken in turn in one process, batch {result['batch']}, "
             f"{len(next(iter(runs.values()))['step_times'])} rounds, {m['date']}, "
             f"load average {m['load_average']:.1f}:", '',
             '| algorithm | median s / step | best s / step | x MAE (median) | x MAE (best) |',
             '|---|---:|---:|---:|---:|']
    for name, r in runs.items():
        lines.append(f"| {name} | {r['median_s']:.3f} | {r['best_s']:.3f} | "
                     f"{_fmt(base and r['median_s'] / base['median_s'], '.2f')} | "
                     f"{_fmt(base and r['best_s'] / base['best_s'], '.2f')} |")
    return lines


def breakdown_table(result: dict) -> list:
    lines = ['| algorithm | part | forward s | backward s | share of the parts |',
             '|---|---|---:|---:|---:|']
    for name, r in result['results'].items():
        parts = r.get('breakdown', [])
        total = sum(p['forward_s'] + p['backward_s'] for p in parts)
        for p in parts:
            lines.append(f"| {name} | {p['part']} | {p['forward_s']:.3f} | "
                         f"{p['backward_s']:.3f} | "
                         f"{100 * (p['forward_s'] + p['backward_s']) / total:.0f}% |")
        if parts:
            lines.append(f'| {name} | **sum of parts** (whole step: {r["step_s"]:.3f}) | | | '
                         f'{total:.3f} s |')
    return lines


def stall_table(result: dict) -> list:
    rows = [(k, r['stall']) for k, r in result['results'].items() if 'stall' in r]
    if 'stall' in result.get('recognizer', {}):
        rows.append(('fine-tuning (MAERec)', result['recognizer']['stall']))
    lines = ['| pipeline | num_workers | s / step | waiting s / step | stall | first batch s '
             '| 1-worker load s / batch | workers to keep up |',
             '|---|---:|---:|---:|---:|---:|---:|---:|']
    for name, s in rows:
        lines.append(f"| {name} | {s['num_workers']} | {s['step_s']:.3f} | {s['wait_s']:.4f} | "
                     f"{100 * s['stall_fraction']:.1f}% | {s['first_batch_s']:.2f} | "
                     f"{s['load_s_one_worker']:.3f} | {s['workers_to_keep_up']} |")
    return lines


def decoding_table(rec: dict) -> list:
    dec, flops = rec['decoding'], rec.get('flops', {})
    lines = [f"Greedy decoding, batch {dec['batch']}, max_seq_len {dec['max_seq_len']}, "
             f"encoder {dec['encoder_s']:.3f} s / batch (same predictions full vs cached: "
             f"{dec['same_predictions']}; cached / full decoder speed-up "
             f"{dec['speedup']:.2f}x)", '',
             '| decoding | steps | decoder s / batch | recogniser latency s / batch | '
             'images / s |', '|---|---:|---:|---:|---:|']
    for r in dec['rows']:
        lines.append(f"| {r['mode']} | {r['steps']} | {r['decoder_s']:.3f} | "
                     f"{r['latency_s']:.3f} | {r['images_per_s']:.1f} |")
    if flops:
        lines += ['', f"Recogniser GMAC / image: encoder {flops['encoder_gmac']:.2f}, "
                  f"decoder ({dec['max_seq_len']} steps) full recompute "
                  f"{flops['decoder_full_gmac']:.2f}, kv cache {flops['decoder_cached_gmac']:.2f}"]
    return lines


def guidance_table(result: dict) -> list:
    g, m = result['guidance'], result['machine']
    lines = [f"LMIM guidance view (TextGuidanceAug) on one core, CPU time, {g['crops']} "
             f"rendered crops per size, best of {g['passes']} passes, {m['date']}, load average "
             f"{_fmt(m.get('load_average'), '.1f')}; workers per GPU at a "
             f"{g['gpu_step_s']:.3f} s step of {g['gpu_batch']} crops:", '',
             '| preset | crop size | CPU ms / crop | workers per GPU |', '|---|---|---:|---:|']
    lines += [f"| {r['preset']} | {r['size']} | {r['ms_per_crop']:.2f} | "
              f"{r['workers_per_gpu']} |" for r in g['rows']]
    return lines


def to_markdown(result: dict) -> str:
    m = result['machine']
    lines = [f"Benchmark, {result['size']} configs, batch {result['batch']}, {m['date']}, "
             f"{m['cores']} cores{', ' + m['gpu'] if m['gpu'] else ''}, "
             f"load average {_fmt(m.get('load_average'), '.1f')}, torch {m['torch']}, "
             f"mmengine {m['mmengine']}, mmpretrain {m['mmpretrain']}, mmocr {m['mmocr']}; "
             f"matmul peak {result['matmul_peak_gflops']:.0f} GFLOP/s", '',
             'Pretraining step (forward + backward + AdamW):', '', *pretrain_table(result)]
    if any('breakdown' in r for r in result['results'].values()):
        lines += ['', 'Step breakdown (each part timed alone, inputs detached):', '',
                  *breakdown_table(result)]
    if any('stall' in r for r in result['results'].values()) or \
            'stall' in result.get('recognizer', {}):
        lines += ['', 'Data loading with the configs\' num_workers (synthetic crops):', '',
                  *stall_table(result)]
    if 'decoding' in result.get('recognizer', {}):
        lines += ['', *decoding_table(result['recognizer'])]
    if 'interleaved' in result:
        lines += ['', *interleaved_table(result)]
    if 'guidance' in result:
        lines += ['', *guidance_table(result)]
    lines += ['', 'Conventions:', *[f'- {c}' for c in CONVENTIONS]]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
