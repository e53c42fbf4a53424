"""Pretraining step cost of MAE, LMIM and MNSP side by side, and greedy-decoding speed.

    python tools/benchmark.py                            # paper-size ViT-S/4 at 32x128, batch 16
    python tools/benchmark.py --batch 64 --steps 10 --out work_dirs/bench.json
    python tools/benchmark.py --tiny --steps 2           # the tiny CPU configs (a smoke)

Each algorithm runs in its own process (so its peak memory is its own): a training step is
forward + backward + AdamW step on random images of the shape its pipeline produces. The
teachers keep random weights (same compute as a trained one). Decoding: the MAERec-S
decoder's greedy decoding of ``max_seq_len`` steps over ViT-S tokens, MMOCR's full-prefix
recomputation against our key/value cache (early exit off, so both run every step).
Results go to a JSON file and a markdown table beside it, with the machine and versions.
"""
import argparse
import json
import os
import platform
import resource
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
DECODER_CONFIGS = {'paper': 'configs/finetune/maerec-s_union14m-l.py',
                   'tiny': 'configs/finetune/maerec_text-vit-tiny_synth-cpu.py'}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--algos', nargs='+', default=['mae', 'lmim', 'mnsp'],
                   choices=['mae', 'lmim', 'mnsp'])
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--steps', type=int, default=5, help='timed steps')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    p.add_argument('--tiny', action='store_true', help='the tiny CPU configs')
    p.add_argument('--decode-batch', type=int, default=32, help='0 skips decoding')
    p.add_argument('--decode-repeats', type=int, default=1, help='timed decoding runs')
    p.add_argument('--out', default='work_dirs/benchmark/pretrain_steps.json')
    p.add_argument('--worker', help=argparse.SUPPRESS)  # internal: run one algorithm
    return p.parse_args()


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


def run_worker(args) -> dict:
    """Time one algorithm in this process."""
    import torch
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from mnsp_mm.apis import load_config
    cfg = load_config(args.worker)
    if 'target_generator' in cfg.model and cfg.model.target_generator.type == 'FrozenTeacher':
        cfg.model.target_generator.update(checkpoint=None, random_init=True)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    inputs = dummy_inputs(model, args.batch)
    inputs = [x.to(device) for x in inputs] if isinstance(inputs, list) else inputs.to(device)
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == 'cuda'):
            loss = sum(model.loss(inputs, []).values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device == 'cuda':
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    step_s = sum(times) / len(times)
    peak_mb = (torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda'
               else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return dict(config=args.worker, device=device, batch=args.batch, steps=len(times),
                step_s=step_s, images_per_s=args.batch / step_s, peak_mb=peak_mb,
                trainable_params_m=trainable / 1e6, step_times=times)


def bench_decoding(config: str, batch: int, repeats: int) -> dict:
    """Greedy decoding images/s: MMOCR's full recomputation vs the key/value cache."""
    import torch
    from mmocr.structures import TextRecogDataSample

    from mnsp_mm.apis import load_config
    from mnsp_mm.models import MAERecDecoder
    dec_cfg = dict(load_config(config).model.decoder)
    dec_cfg.pop('type')
    torch.manual_seed(0)
    decoders = {name: MAERecDecoder(**dec_cfg, cache_kv=cache, early_exit=False).eval()
                for name, cache in (('full', False), ('cached', True))}
    decoders['cached'].load_state_dict(decoders['full'].state_dict())
    feat = torch.randn(batch, 257, dec_cfg['d_model'])
    data = [TextRecogDataSample(metainfo=dict(valid_ratio=1.0)) for _ in range(batch)]
    out = dict(batch=batch, max_seq_len=dec_cfg['max_seq_len'])
    preds = {}
    with torch.no_grad():
        for name, decoder in decoders.items():
            decoder.forward_test(feat[:2], None, data[:2])  # warm-up
            start = time.perf_counter()
            for _ in range(repeats):
                preds[name] = decoder.forward_test(feat, None, data).argmax(-1)
            latency = (time.perf_counter() - start) / repeats
            out[name] = dict(latency_s=latency, images_per_s=batch / latency)
    out['speedup'] = out['full']['latency_s'] / out['cached']['latency_s']
    out['same_predictions'] = bool(torch.equal(preds['full'], preds['cached']))
    return out


def machine() -> dict:
    import torch
    return dict(python=platform.python_version(), torch=torch.__version__,
                cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                torch_threads=torch.get_num_threads(),
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                date=time.strftime('%Y-%m-%d %H:%M'))


def to_markdown(result: dict) -> str:
    base = result['results'].get('mae', {}).get('step_s')
    lines = [f"Pretraining step (fwd + bwd + AdamW), batch {result['batch']}, "
             f"{result['size']} configs, {result['machine']['date']}, "
             f"{result['machine']['cores']} cores, torch {result['machine']['torch']}"
             f"{', ' + result['machine']['gpu'] if result['machine']['gpu'] else ''}", '',
             '| algorithm | s / step | images / s | peak MB | trainable M params | x MAE |',
             '|---|---:|---:|---:|---:|---:|']
    for name, r in result['results'].items():
        ratio = f"{r['step_s'] / base:.2f}" if base else '-'
        lines.append(f"| {name} | {r['step_s']:.3f} | {r['images_per_s']:.1f} | "
                     f"{r['peak_mb']:.0f} | {r['trainable_params_m']:.1f} | {ratio} |")
    dec = result.get('decoding')
    if dec:
        lines += ['', f"Greedy decoding, batch {dec['batch']}, {dec['max_seq_len']} steps "
                  f"(same predictions: {dec['same_predictions']})", '',
                  '| decoder | latency / batch (s) | images / s |', '|---|---:|---:|']
        for name in ('full', 'cached'):
            lines.append(f"| {name} | {dec[name]['latency_s']:.3f} | "
                         f"{dec[name]['images_per_s']:.1f} |")
        lines.append(f"\ncached / full speed-up: {dec['speedup']:.2f}x")
    return '\n'.join(lines) + '\n'


def main():
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    size = 'tiny' if args.tiny else 'paper'
    results = {}
    for algo in args.algos:
        cmd = [sys.executable, __file__, '--worker', CONFIGS[size][algo], '--batch',
               str(args.batch), '--steps', str(args.steps), '--warmup', str(args.warmup)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f'{algo} failed:\n{proc.stderr[-3000:]}')
        results[algo] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{algo}: {results[algo]['step_s']:.3f} s/step, "
              f"{results[algo]['images_per_s']:.1f} images/s", flush=True)
    result = dict(size=size, batch=args.batch, machine=machine(), results=results)
    if args.decode_batch:
        result['decoding'] = bench_decoding(DECODER_CONFIGS[size], args.decode_batch,
                                            args.decode_repeats)
        print(f"decoding: {result['decoding']['speedup']:.2f}x with the cache", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    table = to_markdown(result)
    out.with_suffix('.md').write_text(table)
    print(table + f'\nwritten: {out} and {out.with_suffix(".md")}')


if __name__ == '__main__':
    main()
