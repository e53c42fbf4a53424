"""The benchmark's markdown: one table per measurement, and the whole report."""

CONVENTIONS = [
    'GMAC: multiply-adds (what mmengine FlopAnalyzer calls flops); GFLOP = 2 x GMAC.',
    'train GFLOP / image = 2 x (3 x forward GMAC of the trained parts + 1 x frozen teacher).',
    'achieved = train GFLOP / image x images/s; peak = best fp32 (bf16 on GPU) matmul, 2*M*N*K.',
    'stall = time blocked in next(dataloader_iter) / (that + model step), first batch excluded.',
]


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


def op_share_table(result: dict) -> list:
    lines = ['| algorithm | dense products s | everything else s | share outside products | '
             'top ops by self time (s, calls) |', '|---|---:|---:|---:|---|']
    for name, r in result['results'].items():
        if 'op_shares' not in r:
            continue
        o = r['op_shares']
        top = '; '.join(f'{k.replace("aten::", "")} {t:.3f} ({n})' for k, t, n in o['ops'][:5])
        lines.append(f"| {name} | {o['matmul_s']:.3f} | {o['other_s']:.3f} | "
                     f"{100 * o['other_s'] / max(o['matmul_s'] + o['other_s'], 1e-12):.0f}% | "
                     f"{top} |")
    return lines


def lever_table(result: dict) -> list:
    levers = result['levers']
    m = result['machine']
    lines = [f"Speed levers, each algorithm's step with every lever in turn in one process, "
             f"batch {result['batch']}, {levers['rounds']} rounds, {m['date']}, load average "
             f"{_fmt(m.get('load_average'), '.1f')}:", '',
             '| algorithm | lever | threads | median s / step | images / s | '
             'x fp32 (same threads) | compile s | first-step loss vs fp32 |', '|---|---|---:|---:|---:|---:|---:|---:|']
    for r in levers['rows']:
        lines.append(f"| {r['algo']} | {r['lever']} | {r['threads']} | {r['median_s']:.3f} | "
                     f"{r['images_per_s']:.1f} | {r['x_fp32']:.2f} | "
                     f"{r['compile_s']:.0f} | {r['loss_rel_diff']:.1e} |")
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
        lines += ['', 'Step breakdown (one profiled step, split by the parts each algorithm marks in its loss):', '',
                  *breakdown_table(result)]
    if any('op_shares' in r for r in result['results'].values()):
        lines += ['', 'Time in dense products (mm, addmm, bmm, attention, convolutions; forward '
                  'and backward) against everything else, self CPU time of one profiled step:',
                  '', *op_share_table(result)]
    if any('stall' in r for r in result['results'].values()) or \
            'stall' in result.get('recognizer', {}):
        lines += ['', 'Data loading with the configs\' num_workers (synthetic crops):', '',
                  *stall_table(result)]
    if 'decoding' in result.get('recognizer', {}):
        lines += ['', *decoding_table(result['recognizer'])]
    if 'interleaved' in result:
        lines += ['', *interleaved_table(result)]
    if 'levers' in result:
        lines += ['', *lever_table(result)]
    if 'guidance' in result:
        lines += ['', *guidance_table(result)]
    lines += ['', 'Conventions:', *[f'- {c}' for c in CONVENTIONS]]
    return '\n'.join(lines) + '\n'
