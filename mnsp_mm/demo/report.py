"""``report.md`` of ``tools/demo.py``: the reading table with intervals, the paired differences
and their forest plot, seeds, budgets, ablations, label-free diagnostics, timing, commands.

Everything is read back from the stage records (``<work_dir>/<stage>/done.json``) and the files
they name, so the report can be rebuilt from a finished work dir at any time.
"""
import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Dict, List, Mapping

import numpy as np

from .. import evaluation as R
from ..engine.progress import first_below, read_losses
from ..evaluation import read_predictions
from ..evaluation.bootstrap import Interval, bootstrap_mean
from ..evaluation.reading import training_labels
from ..evaluation.reading_table import ReadingTable
from .figures import bar_chart, forest_plot, loss_figure
from .plan import METHODS, SCRATCH, row_group, row_label

MAIN_METRIC = 'word_acc_ignore_case_symbol'
REFERENCE = 'mae'  # the rows are compared with the MAERec baseline
# Settings chosen by looking at results, and the data they were chosen on (never a test set)
CHOICES = [
    'The CTC head and 30,000 labels: on a validation split of its own (300 crops per '
    'preset `regular` and `default`, held-out words, strings and numbers, seed 777), '
    'from scratch, 1,400 steps: the attention decoder read 0.0%, CTC 64.3% / 56.3%.',
    'The plain fine-tuning recipe for every row (no layer-wise lr decay): on the same '
    'validation split, the MAE encoder fine-tuned with layer decay 0.75 read 6.0% / 6.0%, '
    'without it 47.7% / 41.7%. Layer decay stays as an extra row.',
    'The budgets (pretraining iterations, fine-tuning steps) and the seed counts were set '
    'by time alone, to fit the 2-hour study and the 20-minute demo; no result was looked at.',
]


def _versions() -> str:
    import mmengine
    import mmocr
    import mmpretrain
    import torch
    return (f'torch {torch.__version__}, mmengine {mmengine.__version__}, '
            f'mmpretrain {mmpretrain.__version__}, mmocr {mmocr.__version__}, '
            f'Python {platform.python_version()}')


def _machine() -> str:
    """CPU model and core count (float results differ across CPUs: the figures go with it)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return f'{os.cpu_count()} cores of {model}'


def _minutes(seconds: float) -> str:
    return f'{seconds / 60:.1f} min' if seconds >= 60 else f'{seconds:.0f} s'


def _pct(i: Interval) -> str:
    return f'{100 * i.value:.1f} [{100 * i.low:.1f}, {100 * i.high:.1f}]'


def _diff(i: Interval) -> str:
    verdict = 'measurable' if i.excludes_zero else 'no measurable difference'
    return f'{100 * i.value:+.1f} [{100 * i.low:+.1f}, {100 * i.high:+.1f}] ({verdict})'


def stages_wall_seconds(records: Mapping[str, dict]) -> float:
    """Wall time of the stages: stages run side by side count once, as their group's time."""
    total, groups = 0.0, {}
    for r in records.values():
        if r.get('group'):
            key = tuple(r['group'])
            groups[key] = max(groups.get(key, 0.0), r.get('group_elapsed', r['seconds']))
        else:
            total += r['seconds']
    return total + sum(groups.values())


def row_runs(study, split: str = 'test') -> Dict[str, list]:
    """Report row -> its fine-tuning runs on ``split`` (``'test'`` or ``'val'``), in plan
    order (scratch and main rows first)."""
    rows: Dict[str, list] = {}
    for run in study.finetune_runs:
        if run.recipe_spec.split == split:
            rows.setdefault(run.row, []).append(run)
    order = {'main': 0, 'teacher-free': 1, 'budget': 2, 'ablation': 3, 'validation': 4}
    return dict(sorted(rows.items(), key=lambda kv: order[row_group(kv[0])]))


def _regime_section(study, table, rows) -> List[str]:
    """"Where pretraining pays" (profiles with the reading probe or validation rows)."""
    from . import regime_report as W
    val_rows = row_runs(study, 'val')
    probed = 'probe_random' in study.records
    if not probed and not val_rows:
        return []
    out = ['## Where pretraining pays', '']
    if probed:
        P = study.profile
        out += ['### Frozen-encoder reading probe (validation split)', '',
                f'CTC heads trained on the frozen final tokens of {P.reading_probe:,} '
                'training crops (fixed recipe, the same for every encoder: '
                '`mnsp_mm/analysis/reading_probe.py`), scored on the validation split\'s '
                'out-of-vocabulary crops; WAICS %, paired differences to random weights.', '',
                *W.probe_lines(study), '',
                '### Weight and activation scales (64 validation crops)', '',
                *W.scales_lines(study), '']
    if val_rows:
        out += ['### Validation experiments', '',
                'Each row paired with the plain validation row of its initialisation (the '
                'plain MAE row with scratch\'s). Chosen here, never on the test sets.', '',
                *W.validation_lines(study, val_rows), '',
                'Fine-tuning curves of these rows:', '', *finetune_lines(study, val_rows), '']
    encoders = W.encoder_lines(study, val_rows) if val_rows else []
    if len(encoders) > 3:
        out += ['### Recipe search and budget curve (validation split)', '',
                'Every pretraining run: the lr it was trained at (the recipe trials: the '
                'same lr for every method), its images seen, the frozen reading probes and '
                'its fine-tuned validation reading (each crop\'s mean over the seeds), paired '
                'with scratch on the same crops.', '', *encoders, '',
                *W.crossing_lines(study, val_rows), '']
    cause = W.cause_lines(study, val_rows) if probed and val_rows else []
    if cause:
        out += ['### The cause, across every encoder (validation split)', '',
                'The stream hypothesis (docs/study.md): the pretrained blocks write a large '
                'residual stream, and the recogniser stays on the blank CTC plateau until '
                'fine-tuning has undone it. Every encoder\'s stream RMS (64 validation crops, '
                'before fine-tuning), its plain validation row\'s plateau exit and reading:',
                '', *cause, '']
    val_labels = W.val_label_lines(study, val_rows) if val_rows else []
    if len(val_labels) > 3:
        out += ['### Label curve (validation split)', '', *val_labels, '']
    budget = W.budget_lines(study, table)
    if len(budget) > 3:
        out += ['### Budget curve', '', *budget, '']
    labels = W.label_lines(study, table)
    if len(labels) > 3:
        out += ['### Label curve (test sets, OOV)', '', *labels, '']
    return out


def reading_table(study, rows: Mapping[str, list], test_sets) -> ReadingTable:
    """Per-crop scores of every row (each crop's mean over the row's runs) and Tesseract."""
    records = study.records

    def preds(stage):
        return {s: read_predictions(Path(records[stage]['predictions']) / f'{s}.jsonl')
                for s in test_sets}
    methods = {row_label(row): [preds(r.stage) for r in runs] for row, runs in rows.items()}
    ref = records.get('reference', {})
    if ref.get('installed'):
        methods['Tesseract'] = {s: read_predictions(Path(ref['predictions']) / f'{s}.jsonl')
                                for s in test_sets}
    train = training_labels(Path(records['render']['finetune']) / 'textrecog_train.json')
    return ReadingTable(methods, train, list(test_sets))


def _recipe(config: str) -> dict:
    """What a fine-tuning config trains with, but the initialisation and the seed."""
    from ..apis import load_config
    cfg = load_config(config).to_dict()
    cfg['model']['backbone'].pop('pretrained', None)
    return json.loads(json.dumps({k: cfg.get(k) for k in (
        'model', 'optim_wrapper', 'param_scheduler', 'train_cfg')}, default=repr))


def _summary_table(table: ReadingTable, rows: Mapping[str, list]) -> List[str]:
    ref = row_label(REFERENCE)
    iv_sets = table.sets_with('iv')
    out = ['| row | runs (pretraining x fine-tuning seeds) | OOV WAICS [95% CI] | '
           f'IV WAICS [95% CI] ({len(iv_sets)} sets with IV crops) | per run: mean, sd '
           '(min-max) | minus MAE [95% CI] |', '|---|---|---:|---:|---|---|']
    for row, runs in rows.items():
        label = row_label(row)
        means = [100 * m for m in table.run_means(label)]
        pseeds = len({r.pretrain_seed for r in runs})
        spread = (f'{np.mean(means):.1f}, {np.std(means, ddof=1):.1f} ({min(means):.1f}-'
                  f'{max(means):.1f})' if len(means) > 1 else f'{means[0]:.1f}')
        iv = table.interval(table.word[label], 'iv', skip_empty=True)
        diff = '-' if label == ref or ref not in table.word else _diff(
            table.difference(label, ref))
        seeds = (f'{len(runs)}: {pseeds} x ' + '/'.join(
            str(sum(r.pretrain_seed == p for r in runs)) for p in sorted(
                {r.pretrain_seed for r in runs}))) if row != SCRATCH else f'{len(runs)} (fine-tuning)'
        out.append(f'| {label} | {seeds} | {_pct(table.interval(table.word[label], "oov"))} | '
                   f'{_pct(iv) if iv else "-"} | {spread} | {diff} |')
    return out


def _seed_lines(table: ReadingTable, rows: Mapping[str, list]) -> List[str]:
    """Fine-tuning seed spread (pretraining seed 0) and pretraining seed spread (fine-tuning
    seed 0) of the rows that have them."""
    out = []
    for row, runs in rows.items():
        label = row_label(row)
        means = dict(zip([(r.pretrain_seed, r.seed) for r in runs], table.run_means(label)))
        ft = [100 * v for (p, f), v in means.items() if p == 0]
        pt = [100 * v for (p, f), v in means.items() if f == 0]
        parts = []
        if len(ft) > 1:
            parts.append(f'fine-tuning seeds {", ".join(f"{v:.1f}" for v in ft)} '
                         f'(sd {np.std(ft, ddof=1):.1f})')
        if len(pt) > 1:
            parts.append(f'pretraining seeds {", ".join(f"{v:.1f}" for v in pt)} '
                         f'(sd {np.std(pt, ddof=1):.1f})')
        if parts:
            out.append(f'- {label}: ' + '; '.join(parts) + '.')
    return out


def _budget_table(study) -> List[str]:
    records, P = study.records, study.profile
    by_method: Dict[str, list] = {}
    teachers: Dict[str, list] = {}  # method -> the records of its teacher runs
    for run in study.pretrain_runs:
        by_method.setdefault(run.method, []).append(records[run.stage])
        if run.teacher_stage:
            teachers.setdefault(run.method, []).append(records[run.teacher_stage])
    out = ['| method | images seen | wall time (mean over seeds) | training GFLOP / image | '
           'training TFLOP | + frozen teacher (its own MAE run) |',
           '|---|---:|---:|---:|---:|---|']
    for method, recs in by_method.items():
        seconds = np.mean([r['seconds'] for r in recs])
        teacher = '-'
        if method in teachers:
            t = teachers[method]
            teacher = (f'+ {_minutes(np.mean([r["seconds"] for r in t]))}, '
                       f'+ {t[0]["train_gflop"] / 1e3:.1f} TFLOP (teacher forward '
                       f'{recs[0]["teacher_gmac_per_image"] * 2:.3f} GFLOP / image inside)')
        out.append(f'| {METHODS[method].label} | {recs[0]["images_seen"]:,} | '
                   f'{_minutes(seconds)} | {recs[0]["gflop_per_image"]:.3f} | '
                   f'{recs[0]["train_gflop"] / 1e3:.1f} | {teacher} |')
    out += ['', f'Fine-tuning: the same {P.finetune_iters} steps x {P.finetune_batch} '
            f'({P.finetune_iters * P.finetune_batch:,} labeled crops seen) for every row but '
            'the extra recipe rows (which say what they change).']
    return out


def _ablation_table(table: ReadingTable, rows: Mapping[str, list]) -> List[str]:
    out = ['| row | compared with | OOV WAICS [95% CI] | minus the compared row [95% CI] |',
           '|---|---|---:|---|']
    for row in rows:
        if row_group(row) == 'main':
            continue
        init, _, recipe = row.partition(':')
        ref = row_label(init if recipe else METHODS[init].reference)
        if ref not in table.word:
            continue
        label = row_label(row)
        out.append(f'| {label} | {ref} | {_pct(table.interval(table.word[label], "oov"))} | '
                   f'{_diff(table.difference(label, ref))} |')
    return out


def _probe_cell(p: dict) -> str:
    return f'{100 * p["value"]:.1f} [{100 * p["low"]:.1f}, {100 * p["high"]:.1f}]'


def _diagnostics_section(study) -> List[str]:
    records = study.records
    diag = json.loads(Path(records['diagnostics']['results']).read_text())
    attention = records['attention']['encoders']
    names = {'random': 'random weights (no pretraining)'}
    names.update({r.stage: f'{METHODS[r.method].label} (seed {r.seed})'
                  for r in study.pretrain_runs})
    out = ['| encoder | first character [95% CI] | length [95% CI] | [cls] std | patch std | '
           'patch std within a crop | [cls] effective rank | image share of its targets | '
           'attention on text [95% CI] (chance) |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for name, res in diag.items():
        att = attention.get(name)
        cell = '-'
        if att and att['fraction']:
            a = bootstrap_mean(att['fraction'])
            cell = f'{_pct(a)} ({100 * np.mean(att["chance"]):.1f})'
        c = res['collapse']
        out.append(f'| {names.get(name, name)} | {_probe_cell(res["first_char"])} | '
                   f'{_probe_cell(res["length"])} | {c["cls_std"]:.3f} | '
                   f'{c["patch_std"]:.3f} | {c["patch_std_within"]:.3f} | '
                   f'{c["cls_effective_rank"]:.1f} | '
                   f'{c["target_image_share"]:.2f} | {cell} |')
    rnd = diag['random']
    out += ['', f'Chance (the training majority class): first character '
            f'{100 * rnd["first_char"]["chance"]:.1f}%, length {100 * rnd["length"]["chance"]:.1f}%.']
    for key, title in (('first_char', 'first-character probe'), ('length', 'length probe')):
        base = rnd[key]['value']
        above = [names[n] for n, r in diag.items() if n != 'random' and r[key]['low'] > base]
        below = [names[n] for n, r in diag.items() if n != 'random' and r[key]['high'] < base]
        out.append(f'- {title}: above random weights (interval excludes its '
                   f'{100 * base:.1f}%): {", ".join(above) or "none"}; below: '
                   f'{", ".join(below) or "none"}.')
    return out


def _attention_lines(study, root: Path) -> List[str]:
    """The fine-tuned recognisers' attention on text, with an interval over crops."""
    encoders = study.records['attention']['encoders']
    out = ['| fine-tuned from | attention on text [95% CI] | chance | maps |', '|---|---:|---:|---|']
    for run in study.attention_finetunes():
        att = encoders[run.stage]
        if not att['fraction']:
            continue
        png = os.path.relpath(att['png'], root)
        out.append(f'| {row_label(run.row)} | {_pct(bootstrap_mean(att["fraction"]))} | '
                   f'{100 * np.mean(att["chance"]):.1f} | [png]({png}) |')
    return out


PLATEAU = 3.0  # CTC loss below which the recogniser has left the all-blank plateau


def stage_losses(records: Mapping[str, dict], stage: str) -> List[dict]:
    """A training stage's per-iteration loss records (``losses.jsonl`` beside its
    checkpoint)."""
    return read_losses(Path(records[stage]['checkpoint']).parent / 'losses.jsonl')


def finetune_lines(study, rows: Mapping[str, list]) -> List[str]:
    """Each row's fine-tuning curve in three numbers: the loss of its first steps, the step
    where it leaves the all-blank plateau, the loss at the end (mean over its runs)."""
    out = [f'| row | loss, first 5% of steps | first step with loss < {PLATEAU} (moving mean '
           'of 20) | loss, last 5% |', '|---|---:|---:|---:|']
    for row, runs in rows.items():
        firsts, leaves, lasts = [], [], []
        for run in runs:
            recs = stage_losses(study.records, run.stage)
            losses = [r['loss'] for r in recs]
            k = max(1, len(losses) // 20)
            firsts.append(np.mean(losses[:k]))
            lasts.append(np.mean(losses[-k:]))
            leaves.append(first_below(recs, PLATEAU))
        left = [v for v in leaves if v is not None]
        leave = 'never' if not left else f'{np.mean(left):.0f}' + (
            f' ({len(left)} of {len(leaves)} runs)' if len(left) < len(leaves) else '')
        out.append(f'| {row_label(row)} | {np.mean(firsts):.2f} | {leave} | '
                   f'{np.mean(lasts):.2f} |')
    return out


def _loss_table(study) -> List[str]:
    out = ['| run | loss terms, mean of the first 10% -> last 10% of iterations |', '|---|---|']
    for run in study.pretrain_runs:
        r = study.records[run.stage]
        terms = ', '.join(f'{t} {r["terms_first"][t]:.3f} -> {r["terms_last"][t]:.3f}'
                          for t in r['terms_first'])
        out.append(f'| {METHODS[run.method].label} (seed {run.seed}) | {terms} |')
    return out


def write_report(root: Path, profile_name: str, study, test_sets, wall_seconds: float,
                 command: str) -> Path:
    """Write ``root/report.md`` and its figures (``results.png``, ``forest.png``,
    ``pretrain_losses.png``).

    Args:
        root: The work dir.
        profile_name: The profile (``quick``, ``default``, ``study``).
        study: The finished :class:`~mnsp_mm.demo.stages.Study` (profile, plan, records).
        test_sets: Test-set names, in table order.
        wall_seconds: Time of this invocation (stages skipped as done cost ~0).
        command: The command line that reproduces the whole run.

    Returns:
        The path of ``report.md``.
    """
    root, records, P = Path(root), study.records, study.profile
    rows = row_runs(study)
    table = reading_table(study, rows, test_sets)
    ref = records.get('reference', {})
    tesseract = ref.get('version', 'not installed (Debian tesseract-ocr)') + (
        ', --psm 7 on 3x upscaled crops' if ref.get('installed') else '')
    ref_label = row_label(REFERENCE)
    differences = [(row_label(r), row_group(r), table.difference(row_label(r), ref_label)
                    .scaled(100)) for r in rows if r != REFERENCE]
    forest_plot(differences, ref_label, root / 'forest.png')
    first = [runs[0] for row, runs in rows.items() if row_group(row) == 'main']
    metric_runs = [R.load_run_metrics(records[r.stage]['metrics'], name=row_label(r.row))
                   for r in first]
    mmocr_rows = R.build_table(metric_runs, MAIN_METRIC)
    bar_chart({'WAICS': mmocr_rows}, [r.row for r in first], root / 'results.png')
    curves = {r.stage: stage_losses(records, r.stage) for r in study.pretrain_runs
              if r.seed == 0}
    loss_figure(curves, {r.stage: METHODS[r.method].label for r in study.pretrain_runs},
                root / 'pretrain_losses.png')
    stage_total = stages_wall_seconds(records)
    sizes = records['render']['sizes']
    counts = table.counts()
    images = P.pretrain_iters * P.pretrain_batch
    # the rows were fine-tuned with the same recipe except the recipe rows: check, not assume
    recipes = {json.dumps(_recipe(records[r.stage]['config']), sort_keys=True)
               for runs in rows.values() for r in runs if not r.recipe}
    if len(recipes) > 1:
        raise ValueError('the fine-tuning configs of the rows differ in more than their '
                         'initialisation and seed; see <work-dir>/configs/finetune_*.py')

    out = [f'# mnsp_mm study on synthetic text: scratch, MAE, LMIM and MNSP at equal budget '
           f'(profile `{profile_name}`)', '',
           f'Generated {time.strftime("%Y-%m-%d %H:%M")} on {_machine()}, {_versions()}. '
           f'Stages took {_minutes(stage_total)} in all (this invocation: '
           f'{_minutes(wall_seconds)}). Float results differ across CPUs: a rerun repeats '
           'these numbers on this machine only.', '',
           '## Protocol', '',
           f'- A tiny TextViT (a small CNN as patch embedding, 4 layers, 96-d, 8x8 patches on '
           f'32x128 crops) is pretrained on {sizes["pool"]:,} unlabeled crops by every method '
           f'**from random weights for the same {images:,} images seen** ({P.pretrain_iters} '
           f'iterations x {P.pretrain_batch}; the budget ablation alone gets a multiple and '
           'says so). LMIM, MNSP and their ablations use the finished '
           'MAE run of the same seed as frozen teacher; its cost is the MAE row\'s. The '
           'pixel-target rows need no teacher.',
           f'- The recogniser (the TextViT with a CTC head over its 16 token columns) is '
           f'fine-tuned from scratch and from each encoder on {sizes["train"]:,} labeled crops '
           f'for {P.finetune_iters} steps x {P.finetune_batch}, with the same recipe, '
           f'schedule and data for every row, and tested on {len(test_sets)} sets of '
           f'{P.test} crops.',
           '- Intervals: 95% percentile bootstrap over test crops (resampled within each set; '
           'the average is the mean over sets). A row with several runs scores each crop by '
           'its mean over runs. Differences are paired (the same crops resampled for both '
           'rows); "no measurable difference" when the interval holds 0.',
           '- Settings chosen by looking at results, each on a validation split, never on the '
           'test sets:', *[f'  - {c}' for c in CHOICES], '',
           '## Reading: out-of-vocabulary crops', '',
           f'OOV crops ({sum(c["oov"] for c in counts.values())}): held-out words (never a '
           'training label), random letter/digit strings and numbers; `held_out_fonts` uses '
           'font families no training or pretraining crop uses. WAICS %, each set and the '
           f'mean over sets [95% CI]. Tesseract: {tesseract}.', '',
           *table.markdown('word', 'oov'), '',
           '### Every row at a glance (OOV headline, IV beside it)', '',
           *_summary_table(table, rows), '',
           *_seed_lines(table, rows), '',
           f'![paired differences to {ref_label}](forest.png)', '',
           'Paired differences to scratch (OOV):', '',
           *[line for line in table.difference_lines(row_label(SCRATCH), 'oov',
                                                      skip=('Tesseract', ))
             if any(line.startswith(f'- {row_label(r)} -') for r in rows
                    if row_group(r) == 'main')], '',
           f'In-vocabulary crops ({sum(c["iv"] for c in counts.values())}; the label is also '
           'a training label), WAICS %:', '',
           *table.markdown('word', 'iv'), '',
           'OOV 1 - normalised edit distance %:', '',
           *table.markdown('ned', 'oov'), '',
           '## Budget', '',
           *_budget_table(study), '',
           'Wall times are of stages run two at a time with one thread each (`--jobs 2`).', '']
    out += _regime_section(study, table, rows)
    if any(row_group(r) != 'main' for r in rows):
        out += ['## Teacher-free rows and ablations', '',
                'Each row against the row it changes one thing of (paired, OOV WAICS):', '',
                *_ablation_table(table, rows), '']
    out += ['## Label-free diagnostics of the pretrained encoders', '',
            f'Linear probes (closed-form ridge) on frozen features of {P.probe_train} '
            f'training crops, scored on {P.probe_test} others: the first character (36 '
            'classes) and the length of the label. Collapse: per-dimension std over the crops '
            'of [cls] and patch tokens, the std over the positions of one crop (near 0: '
            'every column says the same, which a CTC reader has to undo), and the effective '
            'rank of [cls]. Image share of its '
            'targets: of the variance of the layer-normalised patch tokens (what the encoder '
            'gives as a frozen teacher), the share that changes from image to image at a '
            'fixed position (near 0: a per-position constant). Attention: the share '
            f'of the last layer\'s [cls] attention on glyph pixels ({P.attention_images} '
            '`regular` crops, interval over crops) next to a uniform map\'s share.', '',
            *_diagnostics_section(study), '',
            '![pretraining losses](pretrain_losses.png)', '',
            *_loss_table(study), '',
            '### Fine-tuning curves', '',
            'The CTC recogniser first predicts blanks everywhere (loss about 3.8 here); '
            'reading starts when it leaves that plateau. Mean over each row\'s runs:', '',
            *finetune_lines(study, rows), '',
            '### Where the fine-tuned encoders look', '',
            'The same measure on the recognisers (the first run of each row):', '',
            *_attention_lines(study, root), '',
            '## All crops, MMOCR metrics (the first run of each main row)', '',
            R.to_markdown(mmocr_rows, decimals=1), '',
            '![WAICS per test set](results.png)', '',
            f'### {R.PUBLISHED_HEADING}', '',
            'Real benchmarks with ViT-S models pretrained on millions of crops: context for '
            'the ordering, not comparable with the synthetic numbers above.', '',
            R.to_markdown(R.published_rows(), R.PUBLISHED_COLUMNS, decimals=1), '',
            '## Time per stage', '',
            f'{_minutes(stage_total)} in all. Stages marked * ran side by side (`--jobs`).', '',
            '| stage | time | result |', '|---|---:|---|']
    for name, r in records.items():
        mark = ' *' if r.get('group') else ''
        out.append(f'| {name}{mark} | {_minutes(r["seconds"])} | {r["line"]} |')
    out += ['', '## Reproduce', '', 'The whole run (stages already done are skipped):', '',
            f'    {command}', '', 'Each stage on its own (configs in `configs/`, written by the run):', '']
    for name, r in records.items():
        out.append(f'- {name}:')
        out += [f'      {c}' for c in r.get('commands', [])]
    out += ['', f'Profile `{profile_name}`: ' + ', '.join(
        f'{k}={v}' for k, v in dataclasses.asdict(P).items()) + '.', '']
    report = root / 'report.md'
    report.write_text('\n'.join(out), encoding='utf-8')
    return report
