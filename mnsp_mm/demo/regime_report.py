"""The report's "Where pretraining pays" section: the reading probe, the encoder scales,
the validation experiments, the budget curve and the label curve.

Read back from the stage records like the rest of ``report.md``; every table has its
intervals (bootstrap over crops; paired for differences).
"""
import json
from pathlib import Path
from typing import Dict, List, Mapping

import numpy as np

from ..analysis.encoder_scales import summarise
from ..engine.progress import first_below
from ..evaluation.bootstrap import bootstrap_mean, bootstrap_spearman, paired_difference
from ..evaluation.predictions import read_predictions
from ..evaluation.reading import word_correct
from .plan import METHODS, RECIPES, SCRATCH, row_label


def _pct(value: float, low: float, high: float) -> str:
    return f'{100 * value:.1f} [{100 * low:.1f}, {100 * high:.1f}]'


def _diff(i, scale: float = 100, digits: int = 1) -> str:
    """A paired difference (points by default; ``scale=1, digits=3`` for a loss)."""
    v, lo, hi = (scale * x for x in (i.value, i.low, i.high))
    cell = f'{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]'
    return cell if i.excludes_zero else cell + ' (no measurable difference)'


def encoder_name(stage: str, study) -> str:
    if stage == 'random':
        return 'random weights (no pretraining)'
    run = next(r for r in study.pretrain_runs if r.stage == stage)
    return f'{METHODS[run.method].label} (seed {run.seed})'


def _probe_results(study) -> Dict[str, dict]:
    """Encoder (``random`` or a pretraining stage) -> its reading-probe result."""
    return {rec['encoder']: json.loads(Path(rec['results']).read_text())
            for name, rec in study.records.items() if name.startswith('probe_')}


def _losses(result: dict, kind: str) -> (np.ndarray, list):
    """Held-out CTC loss per character of the crops a label fits (NaN elsewhere)."""
    sets = result[kind]['sets']
    values = np.concatenate([[np.nan if v is None else v for v in s['loss']]
                             for s in sets.values()])
    return values, [n for n, s in sets.items() for _ in s['loss']]


def probe_lines(study) -> List[str]:
    """The reading probe of every encoder: WAICS, and the held-out CTC loss per character
    (lower is better) paired against random weights' on the same crops."""
    res = _probe_results(study)
    images = {r.stage: study.records[r.stage]['images_seen'] for r in study.pretrain_runs}
    out = ['| encoder | images seen | linear probe WAICS [95% CI] | linear held-out loss | '
           'minus random weights | 1-block probe WAICS [95% CI] | 1-block held-out loss | '
           'minus random weights |', '|---|---:|---:|---:|---|---:|---:|---|']
    for name, r in res.items():
        cells = []
        for kind in ('linear', 'block'):
            p = r[kind]
            cells.append(_pct(p['value'], p['low'], p['high']))
            held = p.get('heldout_loss')  # records older than the held-out loss lack it
            cells.append(f"{held['value']:.3f} [{held['low']:.3f}, {held['high']:.3f}]"
                         if held else '-')
            if name == 'random' or not held or 'heldout_loss' not in res['random'][kind]:
                cells.append('-')
                continue
            (a, strata), (b, _) = _losses(r, kind), _losses(res['random'], kind)
            keep = ~np.isnan(a)
            cells.append(_diff(paired_difference(a[keep], b[keep],
                                                 strata=np.asarray(strata)[keep]), 1, 3))
        out.append(f'| {encoder_name(name, study)} | {images.get(name, 0):,} | '
                   + ' | '.join(cells) + ' |')
    return out


def scales_lines(study) -> List[str]:
    """Weight RMS, residual-stream RMS, attention entropy and dead stem channels."""
    res = _probe_results(study)
    out = ['| encoder | stem weight RMS | qkv RMS | FFN RMS | LayerNorm mean gain | '
           'stream RMS per block | attention entropy per block (1 = uniform) | dead stem '
           'ReLU channels |', '|---|---:|---:|---:|---:|---|---|---|']
    for name, r in res.items():
        sc = r.get('scales')
        if not sc:
            continue
        g = summarise(sc)
        out.append(f'| {encoder_name(name, study)} | {g["patch_embed"]:.3f} | '
                   f'{g["attn.qkv"]:.3f} | {g["ffn"]:.3f} | {g["ln"]:.2f} | '
                   + ', '.join(f'{v:.2f}' for v in sc['stream_rms']) + ' | '
                   + ', '.join(f'{v:.2f}' for v in sc['attention_entropy']) + ' | '
                   + ', '.join(f'{100 * v:.0f}%' for v in sc['dead_stem_channels']) + ' |')
    return out


def _crop_scores(study, runs, sets) -> (np.ndarray, list):
    """Each crop's WAICS, mean over the runs, over ``sets`` (and the strata)."""
    per_run, strata = [], []
    for k, run in enumerate(runs):
        folder = Path(study.records[run.stage]['predictions'])
        scores = [word_correct(read_predictions(folder / f'{s}.jsonl')) for s in sets]
        per_run.append(np.concatenate(scores))
        if not k:
            strata = [s for s, c in zip(sets, scores) for _ in c]
    return np.mean(per_run, 0), strata


def _val_sets() -> List[str]:
    from .profiles import VAL_SETS
    return [f'val_{p}' for p in VAL_SETS]


def validation_lines(study, rows: Mapping[str, list]) -> List[str]:
    """The validation-split rows, each paired with the plain row of its initialisation (an
    NSP variant's plain validation row with its reference's, MNSP's) and with scratch under
    the same recipe (the same trials for both)."""
    sets = _val_sets()
    scores = {row: _crop_scores(study, runs, sets) for row, runs in rows.items()}
    out = ['| row | runs | validation WAICS [95% CI] | compared with | difference [95% CI] | '
           'minus scratch, same recipe [95% CI] |', '|---|---:|---:|---|---|---|']
    for row, runs in rows.items():
        init, _, recipe = row.partition(':')
        values, strata = scores[row]
        ci = bootstrap_mean(values, strata=strata)
        ref = f'{init}:val' if recipe != 'val' else f'{SCRATCH}:val'
        if recipe == 'val' and init in METHODS and METHODS[init].group == 'nsp_variant':
            ref = f'{METHODS[init].reference}:val'
        comp, cell, same = '-', '-', '-'
        if row != ref and ref in scores:
            comp = row_label(ref)
            cell = _diff(paired_difference(values, scores[ref][0], strata=strata))
        twin = f'{SCRATCH}:{recipe}'
        if init != SCRATCH and twin in scores:
            same = _diff(paired_difference(values, scores[twin][0], strata=strata))
        out.append(f'| {row_label(row)} | {len(runs)} | {_pct(ci.value, ci.low, ci.high)} | '
                   f'{comp} | {cell} | {same} |')
    return out


def paired_lines(study, rows: Mapping[str, list], pairs) -> List[str]:
    """Row a minus row b on the same validation crops, for each ``(a, b)`` of ``pairs``.

    Raises:
        KeyError: a row of ``pairs`` that ``rows`` does not hold, naming it.
    """
    missing = sorted({r for pair in pairs for r in pair} - set(rows))
    if missing:
        raise KeyError(f'validation rows {missing} are not done; done: {sorted(rows)}')
    sets = _val_sets()
    scores = {r: _crop_scores(study, rows[r], sets) for r in {r for pair in pairs for r in pair}}
    out = ['| row | minus | difference [95% CI] |', '|---|---|---|']
    for a, b in pairs:
        (va, strata), (vb, _) = scores[a], scores[b]
        out.append(f'| {row_label(a)} | {row_label(b)} | '
                   f'{_diff(paired_difference(va, vb, strata=strata))} |')
    return out


def per_set_lines(table, pairs) -> List[str]:
    """Row a minus row b on each test set's OOV crops and on their mean, paired, for each
    ``(a, b)`` of ``pairs`` (display labels of ``table``): the per-category reading that a
    robustness claim is about.

    Raises:
        KeyError: a label ``table`` does not hold, naming it.
    """
    missing = sorted({r for pair in pairs for r in pair} - set(table.word))
    if missing:
        raise KeyError(f'test rows {missing} are not done; done: {sorted(table.word)}')
    out = ['| row | minus | ' + ' | '.join(table.sets) + ' | mean of the sets |',
           '|---|---|' + '---|' * (len(table.sets) + 1)]
    for a, b in pairs:
        cells = [_diff(table.difference(a, b, set_name=s)) for s in table.sets]
        out.append(f'| {a} | {b} | ' + ' | '.join(cells) + f' | {_diff(table.difference(a, b))} |')
    return out


def done_rows(study, split: str = 'val') -> Dict[str, list]:
    """Row of ``split`` (``'val'`` or ``'test'``) -> its runs, for the rows whose every run
    has finished."""
    from .report import row_runs
    return {row: runs for row, runs in row_runs(study, split).items()
            if all(r.stage in study.records for r in runs)}


def budget_lines(study, table) -> List[str]:
    """Images seen -> frozen reading probe and fine-tuned OOV reading, per method."""
    probe = _probe_results(study)
    out = ['| encoder | images seen (teacher) | linear probe (validation) | fine-tuned OOV '
           'WAICS (test) [95% CI] | minus scratch [95% CI] |', '|---|---:|---:|---:|---|']
    scratch = row_label(SCRATCH)
    for run in study.pretrain_runs:
        m = METHODS[run.method]
        if run.seed or m.group not in ('main', 'budget', 'ablation') or (
                m.group == 'ablation' and m.budget == 1):
            continue
        rec = study.records[run.stage]
        teacher = (f' (teacher {study.records[run.teacher_stage]["images_seen"]:,})'
                   if run.teacher_stage else '')
        p = probe.get(run.stage, {}).get('linear')
        label = row_label(run.method)
        diff = _diff(table.difference(label, scratch)) if label in table.word else '-'
        out.append(f'| {m.label} | {rec["images_seen"]:,}{teacher} | '
                   f'{_pct(p["value"], p["low"], p["high"]) if p else "-"} | '
                   f'{_cell(table, label)} | {diff} |')
    return out


def _cell(table, label: str) -> str:
    if label not in table.word:
        return '-'
    i = table.interval(table.word[label], 'oov').scaled(100)
    return f'{i.value:.1f} [{i.low:.1f}, {i.high:.1f}]'


def label_lines(study, table) -> List[str]:
    """Fine-tuning labels -> OOV reading of scratch and of each pretrained init."""
    by_labels: Dict[int, list] = {}
    for run in study.finetune_runs:
        spec = run.recipe_spec
        if spec.split == 'test' and (spec.labels or not run.recipe) and run.seed == 0 and \
                not run.pretrain_seed:
            by_labels.setdefault(spec.labels or study.profile.train, []).append(run.row)
    out = ['| labels | row | OOV WAICS [95% CI] | minus scratch with the same labels '
           '[95% CI] |', '|---:|---|---:|---|']
    for labels in sorted(by_labels):
        rows = by_labels[labels]
        base = next((r for r in rows if r.partition(':')[0] == SCRATCH), None)
        if base is None:
            continue
        for row in rows:
            label = row_label(row)
            if label not in table.word:
                continue
            diff = '-' if row == base else _diff(table.difference(label, row_label(base)))
            out.append(f'| {labels:,} | {label} | {_cell(table, label)} | {diff} |')
    return out


def recipe_choice_lines() -> List[str]:
    """What each recipe row changes (the report's key to the tables above)."""
    return [f'- `{k}`: {r.description}' + (f'; {dict(r.options)}' if r.options else '')
            for k, r in RECIPES.items()]


def _probe_cell(result: dict, kind: str) -> str:
    """WAICS [95% CI] and, where recorded, the held-out CTC loss per character."""
    p = result.get(kind) if result else None
    if not p:
        return '-'
    held = p.get('heldout_loss')
    return _pct(p['value'], p['low'], p['high']) + (f'; {held["value"]:.3f}' if held else '')


def _lr(lr: float) -> str:
    """1.5e-4 as written in the method keys (not 0.00015)."""
    mantissa, exponent = f'{lr:e}'.split('e')
    return f'{float(mantissa):g}e{int(exponent)}'


def encoder_lines(study, rows: Mapping[str, list]) -> List[str]:
    """Every pretraining run (the recipe trials and the budget curve): its lr, images seen
    (and its teacher's), the frozen reading probes, its plain validation row's fine-tuned
    reading and that minus scratch's, paired on the crops (each crop's mean over seeds)."""
    sets = _val_sets()
    probe = _probe_results(study)
    base = f'{SCRATCH}:val'
    scratch = _crop_scores(study, rows[base], sets) if base in rows else None
    out = ['| encoder | lr | images seen (teacher) | linear probe [95% CI]; held-out loss | '
           '1-block probe [95% CI]; held-out loss | fine-tuned validation WAICS [95% CI] | '
           'seeds | minus scratch [95% CI] |', '|---|---:|---:|---:|---:|---:|---:|---|']
    if scratch is not None:
        ci = bootstrap_mean(scratch[0], strata=scratch[1])
        random = probe.get('random')
        out.append(f'| random weights (scratch) | - | 0 | {_probe_cell(random, "linear")} '
                   f'| {_probe_cell(random, "block")} | '
                   f'{_pct(ci.value, ci.low, ci.high)} | {len(rows[base])} | - |')
    for run in study.pretrain_runs:
        rec = study.records.get(run.stage)
        row = f'{run.method}:val'
        if rec is None or run.seed:
            continue
        m = METHODS[run.method]
        lr = dict(m.options).get('optim_wrapper.optimizer.lr')
        lr = _lr(lr) if lr else 'the config\'s'
        teacher = (f' ({study.records[run.teacher_stage]["images_seen"]:,})'
                   if run.teacher_stage else '')
        read, seeds, diff = '-', 0, '-'
        if row in rows:
            values, strata = _crop_scores(study, rows[row], sets)
            ci = bootstrap_mean(values, strata=strata)
            read, seeds = _pct(ci.value, ci.low, ci.high), len(rows[row])
            if scratch is not None:
                diff = _diff(paired_difference(values, scratch[0], strata=strata))
        out.append(f'| {m.label} | {lr} | {rec["images_seen"]:,}{teacher} | '
                   f'{_probe_cell(probe.get(run.stage), "linear")} | '
                   f'{_probe_cell(probe.get(run.stage), "block")} | {read} | {seeds} | {diff} |')
    return out


def _plateau_exit(study, runs) -> float:
    """Mean step at which the runs leave the all-blank CTC plateau (a run that never does
    counts as its last step + 1, so that it ranks last)."""
    from .report import PLATEAU, stage_losses
    steps = []
    for run in runs:
        recs = stage_losses(study.records, run.stage)
        exit_ = first_below(recs, PLATEAU)
        steps.append(exit_ if exit_ is not None else recs[-1]['iter'] + 1)
    return float(np.mean(steps))


def cause_lines(study, rows: Mapping[str, list]) -> List[str]:
    """The stream hypothesis put to every encoder of the run: the residual stream's RMS after
    the last block (a label-free reading of the frozen encoder), the step at which its
    recogniser leaves the CTC plateau, the linear probe's held-out loss and the fine-tuned
    validation reading; then Spearman's rank correlation of each pair over the encoders,
    with a 95% bootstrap interval over the encoders. The hypothesis predicts a negative
    correlation of the reading with the stream RMS, and a positive one of the plateau exit
    with it; an interval on the other side of 0 refutes it."""
    sets = _val_sets()
    probe = _probe_results(study)
    enc = [('random', f'{SCRATCH}:val', 'random weights (scratch)')]
    enc += [(r.stage, f'{r.method}:val', METHODS[r.method].label) for r in study.pretrain_runs
            if not r.seed]
    points = []
    for name, row, label in enc:
        sc = (probe.get(name) or {}).get('scales')
        if row not in rows or not sc or 'linear' not in probe[name]:
            continue
        values, strata = _crop_scores(study, rows[row], sets)
        held = probe[name]['linear'].get('heldout_loss')
        points.append(dict(label=label, stream=sc['stream_rms'][-2],
                           exit=_plateau_exit(study, rows[row]),
                           loss=held['value'] if held else np.nan,
                           read=bootstrap_mean(values, strata=strata).value))
    if len(points) < 3:
        return []
    out = ['| encoder | stream RMS after the last block | leaves the plateau at step (mean '
           'of runs) | linear probe held-out loss | fine-tuned validation WAICS |',
           '|---|---:|---:|---:|---:|']
    out += [f'| {p["label"]} | {p["stream"]:.2f} | {p["exit"]:.0f} | {p["loss"]:.3f} | '
            f'{100 * p["read"]:.1f} |' for p in sorted(points, key=lambda p: p['stream'])]
    col = {k: [p[k] for p in points] for k in ('stream', 'exit', 'loss', 'read')}
    out.append('')
    for a, b, what in (('read', 'stream', 'fine-tuned reading vs stream RMS'),
                       ('exit', 'stream', 'plateau exit vs stream RMS'),
                       ('read', 'loss', 'fine-tuned reading vs probe held-out loss')):
        if not np.all(np.isfinite(col[a] + col[b])):
            continue
        rho = bootstrap_spearman(col[a], col[b])
        out.append(f'- {what}: Spearman {rho.value:+.2f} [{rho.low:+.2f}, {rho.high:+.2f}] '
                   f'over {len(points)} encoders')
    return out


def val_label_lines(study, rows: Mapping[str, list]) -> List[str]:
    """The label curve on the validation split: each labelled-crop count, scratch and every
    init fine-tuned with it (``:val_labels<n>k``; all labels: ``:val``), minus scratch with
    the same labels, paired."""
    sets = _val_sets()
    by_labels: Dict[int, Dict[str, str]] = {}
    for row in rows:
        init, _, recipe = row.partition(':')
        if recipe == 'val' or (recipe.startswith('val_labels') and RECIPES[recipe].split == 'val'):
            n = RECIPES[recipe].labels or study.profile.train
            by_labels.setdefault(n, {})[init] = row
    out = ['| labels | init | runs | validation WAICS [95% CI] | minus scratch, same labels '
           '[95% CI] |', '|---:|---|---:|---:|---|']
    for n in sorted(by_labels):
        inits = by_labels[n]
        if SCRATCH not in inits or len(inits) < 2:
            continue
        base = _crop_scores(study, rows[inits[SCRATCH]], sets)
        others = {i: r for i, r in inits.items() if any(
            f'{i}:{rec}' in rows for rec in ('val_labels1k', 'val_labels3k'))}
        for init in [SCRATCH] + [i for i in others if i != SCRATCH]:
            values, strata = _crop_scores(study, rows[inits[init]], sets)
            ci = bootstrap_mean(values, strata=strata)
            diff = '-' if init == SCRATCH else _diff(paired_difference(values, base[0],
                                                                      strata=strata))
            name = 'scratch' if init == SCRATCH else METHODS[init].label
            out.append(f'| {n:,} | {name} | {len(rows[inits[init]])} | '
                       f'{_pct(ci.value, ci.low, ci.high)} | {diff} |')
    return out


def crossing(images: List[int], gaps: List[float]) -> Dict[str, float]:
    """Where a straight line in log2(images seen) through ``(images, gap)`` points (least
    squares) reaches a gap of 0: an extrapolation, not a measurement.

    Returns:
        dict with the fitted ``slope`` (gap points per doubling of the images), and
        ``images`` at the crossing (inf when the line does not rise towards 0).

    Raises:
        ValueError: fewer than two distinct budgets.
    """
    x = np.log2(np.asarray(images, float))
    if len(set(x.tolist())) < 2:
        raise ValueError(f'crossing: needs two or more distinct budgets, got {images}')
    slope, intercept = np.polyfit(x, np.asarray(gaps, float), 1)
    if slope <= 0 and intercept + slope * x.max() < 0:
        return dict(slope=float(slope), images=float('inf'))
    return dict(slope=float(slope), images=float(2 ** (-intercept / slope)))


def crossing_lines(study, rows: Mapping[str, list], method: str = 'mae') -> List[str]:
    """The fine-tuned validation gap to scratch of one method's encoders along the budget
    curve (the runs of that method at the searched lr), and where a line through them in
    log budget would cross 0 (marked as an extrapolation)."""
    sets = _val_sets()
    base = f'{SCRATCH}:val'
    if base not in rows:
        return []
    scratch = _crop_scores(study, rows[base], sets)
    points = []
    for run in study.pretrain_runs:
        m = METHODS[run.method]
        row = f'{run.method}:val'
        lr = dict(m.options).get('optim_wrapper.optimizer.lr')
        if run.seed or row not in rows or not run.method.startswith(method) or lr is None:
            continue
        values = _crop_scores(study, rows[row], sets)[0]
        gap = paired_difference(values, scratch[0], strata=scratch[1]).value
        points.append((study.records[run.stage]['images_seen'], 100 * gap, m.label))
    if len({p[0] for p in points}) < 2:
        return []
    fit = crossing([p[0] for p in points], [p[1] for p in points])
    where = ('never: the line does not rise towards 0' if not np.isfinite(fit['images'])
             else f'{fit["images"]:,.0f} images seen')
    return [f'- {label}: {images:,} images, {gap:+.1f} points' for images, gap, label in points
            ] + [f'- A line through these points in log2(images seen) rises {fit["slope"]:+.1f} '
                 f'points per doubling and reaches 0 at **{where}**: an extrapolation from '
                 f'{len(points)} measured points, not a measurement.']
