"""The child-process protocol: each config is measured in a fresh process of its own.

Its peak memory (RSS / ``max_memory_allocated``) and allocator state are then its own. The
parent calls :func:`spawn`; the child runs ``python -m mnsp_mm.bench.worker CONFIG DATA
OPTIONS_JSON`` and prints one JSON line, what :func:`run_worker` returns.
"""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

from .parts import breakdown, op_time_shares
from .decoding import bench_decoding, longest_label
from .device import device_and_dtype, peak_mb
from .flops import pretrain_flops, recognizer_flops
from .loading import measure_stall
from .step import build_model, dummy_inputs, make_optimizer, time_steps, to_device


@dataclasses.dataclass
class WorkerOptions:
    """What one child measures (the ``tools/benchmark.py`` flags of the same names)."""
    batch: int = 16
    steps: int = 5
    warmup: int = 1
    profile_repeats: int = 2
    stall_steps: int = 4
    decode_batch: int = 32
    decode_repeats: int = 1
    no_flops: bool = False


def run_pretrain_worker(config, opts: WorkerOptions, cfg, scope, model, data, device,
                        dtype) -> dict:
    """Step time, peak memory, FLOPs, breakdown and stall of one pretraining algorithm."""
    model.to(device).train()
    opt = make_optimizer(model)
    inputs = to_device(dummy_inputs(model, opts.batch), device)
    times = time_steps(model, opt, inputs, opts.steps, opts.warmup, device, dtype)
    step_s = sum(times) / len(times)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out = dict(config=config, device=device, batch=opts.batch, steps=len(times),
               step_s=step_s, best_step_s=min(times), images_per_s=opts.batch / step_s,
               peak_mb=peak_mb(device), trainable_params_m=trainable / 1e6, step_times=times)
    if opts.profile_repeats:
        out['breakdown'] = breakdown(model, opt, inputs, opts.profile_repeats, device, dtype)
        out['op_shares'] = op_time_shares(model, inputs, device, dtype)
    if not opts.no_flops:
        out['flops'] = pretrain_flops(model, device)
    if opts.stall_steps and data:
        out['stall'] = measure_stall(model, cfg, scope, data, opts.batch, opts.stall_steps,
                                     device, dtype)
    return out


def run_recognizer_worker(config, opts: WorkerOptions, cfg, scope, model, data, device,
                          dtype) -> dict:
    """Decoding speed and FLOPs of the recogniser, and the fine-tuning pipeline's stall."""
    out = dict(config=config, device=device)
    if opts.stall_steps and data:
        model.to(device).train()
        out['stall'] = measure_stall(model, cfg, scope, data, opts.batch, opts.stall_steps,
                                     device, dtype)
    if opts.decode_batch:
        longest = min(longest_label(data, opts.decode_batch), model.decoder.max_seq_len - 1)
        out['decoding'] = bench_decoding(model, opts.decode_batch, opts.decode_repeats,
                                         longest, device, dtype)
    if not opts.no_flops:
        out['flops'] = recognizer_flops(model, device)
    return out


def run_worker(config: str, opts: WorkerOptions, data: Optional[str]) -> dict:
    """Benchmark one config in this process (pretraining or recognition, by its scope)."""
    cfg, scope, model = build_model(config)
    device, dtype = device_and_dtype()
    run = run_recognizer_worker if scope == 'mmocr' else run_pretrain_worker
    return run(config, opts, cfg, scope, model, data, device, dtype)


def spawn(config: str, data: Path, opts: WorkerOptions) -> dict:
    """Run one worker in a child process (this checkout's package) and return its result."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (package_root, os.environ.get('PYTHONPATH')) if p))
    cmd = [sys.executable, '-m', 'mnsp_mm.bench', config, str(data),
           json.dumps(dataclasses.asdict(opts))]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f'benchmark of {config} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])

