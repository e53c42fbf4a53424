"""What ``tools/benchmark.py`` measures, one module per measurement.

* :mod:`.configs` -- which configs are measured: paper size, the demo's size and tiny;
* :mod:`.device` -- device, autocast, synchronised timers, peak memory, the matmul peak;
* :mod:`.step` -- a config's model with random weights, its training step, steps taken in turn;
* :mod:`.flops` -- multiply-adds of a pretraining loss and of a greedy decode (FlopAnalyzer);
* :mod:`.decoding` -- the recogniser's greedy decoding: full recompute, kv cache, early exit;
* :mod:`.parts` -- the step split by the profiler regions each algorithm marks in ``loss``,
  and its time in dense products against the rest;
* :mod:`.levers` -- each speed lever (bf16, channels-last stem, compile) on and off, in turn;
* :mod:`.loading` -- the input stall of a config's real dataloader;
* :mod:`.guidance` -- LMIM's guidance view, CPU ms per crop and workers per GPU;
* :mod:`.worker` -- one config per child process (the protocol between them);
* :mod:`.tables` -- the markdown report.
"""
from .configs import ABLATION_CONFIGS, CONFIGS, DEFAULT_BATCH, RECOGNIZER_CONFIGS
from .decoding import bench_decoding
from .device import device_and_dtype, matmul_peak_gflops
from .flops import count_macs, pretrain_flops, recognizer_flops
from .guidance import bench_guidance
from .loading import measure_stall
from .levers import SWITCHES, lever_rows
from .parts import OUTSIDE, breakdown, op_time_shares, profile_step
from .step import (build_model, dummy_inputs, interleaved, make_optimizer, time_steps,
                   total_loss, train_step)
from .tables import CONVENTIONS, guidance_table, interleaved_table, lever_table, to_markdown
from .worker import WorkerOptions, spawn

__all__ = [
    'ABLATION_CONFIGS', 'CONFIGS', 'DEFAULT_BATCH', 'RECOGNIZER_CONFIGS', 'OUTSIDE',
    'breakdown', 'op_time_shares', 'profile_step', 'bench_decoding', 'SWITCHES', 'lever_rows', 'lever_table',
    'device_and_dtype', 'matmul_peak_gflops',
    'count_macs', 'pretrain_flops', 'recognizer_flops', 'bench_guidance', 'measure_stall',
    'build_model', 'dummy_inputs', 'interleaved', 'make_optimizer', 'time_steps', 'total_loss',
    'train_step', 'CONVENTIONS', 'guidance_table', 'interleaved_table', 'to_markdown',
    'WorkerOptions', 'spawn'
]
