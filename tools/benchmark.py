"""MAE, LMIM and MNSP pretraining side by side, the recogniser's decoding, and data loading.

    python tools/benchmark.py                            # paper-size ViT-S/4 at 32x128, batch 16
    python tools/benchmark.py --batch 64 --steps 10 --out work_dirs/bench.json
    python tools/benchmark.py --size demo --out work_dirs/benchmark/demo_steps.json   # + levers
    python tools/benchmark.py --size demo --levers-only --levers fp32 cl+bf16 compile
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
At the demo's size (``--size demo``) it also takes every speed lever (bf16 autocast, the
channels-last conv stem, ``torch.compile``; one and two threads) in turn with fp32 eager, in
one process (``mnsp_mm/bench/levers.py``), and every size reports the step's self time in
dense products against everything else.

Conventions (also written into the output):
* ``GMAC``: mmengine counts one multiply-add as one "flop"; we print it as MAC.
* ``GFLOP`` = 2 x GMAC, the convention of the matmul peak (2*M*N*K per (M,K)@(K,N)).
* training FLOPs per image = 2 x (3 x forward MACs of the trained parts + 1 x the frozen
  teacher's forward MACs): backward costs about twice the forward; the teacher has none.
* stall = time blocked in ``next(dataloader_iter)`` / (that + model step), first batch
  (worker start-up) excluded and reported on its own.
Results go to a JSON file and a markdown file beside it, with the machine and versions.
On a GPU the steps run under autocast (bf16 when supported, else fp16). The measurements
live in ``mnsp_mm/bench/`` (one module each); this script picks the configs and writes.
"""
import argparse
import dataclasses
import json
import os
import platform
import shutil
import time
from pathlib import Path


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--algos', nargs='+', default=['mae', 'lmim', 'mnsp'],
                   choices=['mae', 'lmim', 'mnsp'])
    p.add_argument('--size', choices=['paper', 'demo', 'tiny'], default='paper',
                   help="paper: ViT-S/4 at 32x128; demo: the demo's 4-layer 96-d ViT with 8x8 "
                        'patches and a conv stem; tiny: the smoke configs')
    p.add_argument('--batch', type=int, default=None,
                   help='default: 16 (paper, tiny), 64 (demo, its config)')
    p.add_argument('--steps', type=int, default=5, help='timed steps')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    p.add_argument('--tiny', action='store_true', help='shorthand for --size tiny')
    p.add_argument('--levers', nargs='*', default=None,
                   help="levers taken in turn with fp32 ('fp32', or bf16 / cl / compile joined "
                        "by '+'); default with --size demo: fp32 bf16 cl cl+bf16, else none")
    p.add_argument('--lever-threads', type=int, nargs='+', default=[1, 2],
                   help='intra-op thread counts each lever is measured at')
    p.add_argument('--lever-rounds', type=int, default=5, help='timed rounds of the levers')
    p.add_argument('--levers-only', action='store_true', help='only the lever table')
    p.add_argument('--profile-repeats', type=int, default=2,
                   help='timed runs of the per-part breakdown (0 skips it)')
    p.add_argument('--stall-steps', type=int, default=4,
                   help='steps on the real pipelines to measure the input stall (0 skips)')
    p.add_argument('--no-flops', action='store_true', help='skip the FLOP analysis')
    p.add_argument('--decode-batch', type=int, default=None,
                   help='0 skips decoding (default 32; 0 at the demo size, whose CTC head '
                        'does not decode step by step)')
    p.add_argument('--decode-repeats', type=int, default=1, help='timed decoding runs')
    p.add_argument('--interleave', type=int, default=2,
                   help='rounds of steps taken in turn by every algorithm in one process, '
                        'for ratios that a busy machine does not skew (0 skips)')
    p.add_argument('--no-ablations', action='store_true',
                   help="leave MNSP's paper-size ablations out of the interleaved rounds")
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
    args = p.parse_args()
    if args.tiny:
        args.size = 'tiny'
    if args.guidance_crops is None:
        args.guidance_crops = 4 if args.size == 'tiny' else 200
    if args.decode_batch is None:
        args.decode_batch = 0 if args.size == 'demo' else 32
    if args.levers is None:
        args.levers = ['fp32', 'bf16', 'cl', 'cl+bf16'] if args.size == 'demo' else []
    if args.levers_only and not args.levers:
        p.error('--levers-only needs --levers (or --size demo)')
    return args


def machine() -> dict:
    """Versions, CPU / GPU, threads, load average and date, written beside the results."""
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


def add_efficiency(results: dict, peak_gflops: float) -> None:
    """Achieved training GFLOP/s and its fraction of the matmul peak, per algorithm."""
    for r in results.values():
        if 'flops' in r:
            r['achieved_gflops'] = r['flops']['train_gflop'] * r['images_per_s']
            r['fraction_of_peak'] = r['achieved_gflops'] / peak_gflops


def write(out: Path, result: dict, table: str) -> None:
    """The JSON result and its markdown beside it; the markdown printed."""
    out.write_text(json.dumps(result, indent=2))
    out.with_suffix('.md').write_text(table)
    print(table + f'\nwritten: {out} and {out.with_suffix(".md")}')


def levers(args, configs: dict) -> dict:
    """The lever rows (``mnsp_mm.bench.levers``) with the settings they were taken at."""
    from mnsp_mm import bench
    rows = bench.lever_rows(configs, args.batch, args.lever_rounds, args.levers,
                            args.lever_threads)
    return dict(rounds=args.lever_rounds, threads=args.lever_threads, rows=rows)


def main():
    args = parse_args()
    import mnsp_mm  # noqa: F401  (registers our modules)
    from mnsp_mm import bench
    size = args.size
    if args.batch is None:
        args.batch = bench.DEFAULT_BATCH[size]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    configs = {algo: bench.CONFIGS[size][algo] for algo in args.algos}
    # the rounds taken in turn also carry MNSP's ablations (their cost x MAE), unless told not
    in_turn = dict(configs, **({} if args.no_ablations or 'mnsp' not in args.algos
                               else bench.ABLATION_CONFIGS.get(size, {})))
    device, dtype = bench.device_and_dtype()
    if args.interleave_only:
        result = dict(size=size, batch=args.batch, machine=machine(), interleaved=bench.interleaved(
            in_turn, args.batch, args.interleave, args.warmup, device, dtype))
        return write(out, result, '\n'.join(bench.interleaved_table(result)) + '\n')
    if args.levers_only:
        result = dict(size=size, batch=args.batch, machine=machine(), levers=levers(args, configs))
        return write(out, result, '\n'.join(bench.lever_table(result)) + '\n')
    if args.guidance_only:
        result = dict(machine=machine(), guidance=bench.bench_guidance(
            args.guidance_crops, args.gpu_step_s, args.gpu_batch))
        return write(out, result, '\n'.join(bench.guidance_table(result)) + '\n')
    data = render_data(out.parent, max(args.batch * (args.stall_steps + 2), args.decode_batch))
    peak = bench.matmul_peak_gflops(device, dtype)
    print(f'matmul peak: {peak:.0f} GFLOP/s', flush=True)
    opts = bench.WorkerOptions(**{f.name: getattr(args, f.name)
                                  for f in dataclasses.fields(bench.WorkerOptions)})
    results = {}
    for algo, config in configs.items():
        results[algo] = bench.spawn(config, data, opts)
        print(f"{algo}: {results[algo]['step_s']:.3f} s/step, "
              f"{results[algo]['images_per_s']:.1f} images/s", flush=True)
    add_efficiency(results, peak)
    result = dict(size=size, batch=args.batch, machine=machine(), matmul_peak_gflops=peak,
                  autocast=str(dtype) if dtype else None, conventions=bench.CONVENTIONS,
                  results=results)
    if args.decode_batch or args.stall_steps:
        result['recognizer'] = bench.spawn(bench.RECOGNIZER_CONFIGS[size], data, opts)
        print('recognizer: done', flush=True)
    if args.interleave:
        result['interleaved'] = bench.interleaved(in_turn, args.batch, args.interleave,
                                                  args.warmup, device, dtype)
    if args.levers:
        result['levers'] = levers(args, configs)
    if args.guidance_crops:
        result['guidance'] = bench.bench_guidance(args.guidance_crops, args.gpu_step_s,
                                                  args.gpu_batch)
    write(out, result, bench.to_markdown(result))


if __name__ == '__main__':
    main()
