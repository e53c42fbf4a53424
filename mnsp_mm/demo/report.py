"""``report.md`` of ``tools/demo.py``: results table, figures, attention, timing, commands.

Everything is read back from the stage records (``<work_dir>/<stage>/done.json``) and the files
they name, so the report can be rebuilt from a finished work dir at any time. Tables come from
:mod:`mnsp_mm.evaluation` (the same averages as ``tools/analysis/results_table.py``); the
published rows are printed in their own table, never mixed with the demo's.
"""
import dataclasses
import os
import platform
import time
from pathlib import Path
from typing import List, Mapping, Sequence

from ..evaluation import read_predictions
from ..evaluation.reading_table import ReadingTable
from .. import evaluation as R
from ..engine.progress import read_losses, smooth

MAIN_METRIC = 'word_acc_ignore_case_symbol'
EXTRA_METRIC = '1-N.E.D'
COLOURS = {'scratch': '#9e9e9e', 'mae': '#1f77b4', 'lmim': '#ff7f0e', 'mnsp': '#2ca02c'}


def _versions() -> str:
    import mmengine
    import mmocr
    import mmpretrain
    import torch
    return (f'torch {torch.__version__}, mmengine {mmengine.__version__}, '
            f'mmpretrain {mmpretrain.__version__}, mmocr {mmocr.__version__}, '
            f'Python {platform.python_version()}')


def _minutes(seconds: float) -> str:
    return f'{seconds / 60:.1f} min' if seconds >= 60 else f'{seconds:.0f} s'


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


def load_runs(records: Mapping[str, dict], inits: Sequence[str],
              labels: Mapping[str, str]) -> List[dict]:
    """The fine-tuned models' test metrics, one run per initialisation (read once)."""
    return [R.load_run_metrics(records[f'finetune_{i}']['metrics'], name=labels[i])
            for i in inits]


def bar_chart(tables: Mapping[str, Sequence[dict]], inits: Sequence[str], path: Path) -> Path:
    """One panel per metric; in each, a group per test set (and the average), a bar per
    initialisation.

    Args:
        tables: Metric title -> rows of ``results.build_table`` (percentages).
        inits: The initialisations, in row order (for the colours).
        path: PNG to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    first = next(iter(tables.values()))
    columns = [c for c in first[0] if c not in (R.NAME_COLUMN, R.WAVG)]
    width = 0.8 / len(first)
    fig, axes = plt.subplots(len(tables), 1, figsize=(1.3 * len(columns) + 1.5,
                                                      2.9 * len(tables)), squeeze=False)
    for ax, (title, rows) in zip(axes[:, 0], tables.items()):
        for k, (row, init) in enumerate(zip(rows, inits)):
            xs = [i + (k - (len(rows) - 1) / 2) * width for i in range(len(columns))]
            ax.bar(xs, [row[c] or 0 for c in columns], width, label=row[R.NAME_COLUMN],
                   color=COLOURS.get(init))
        ax.set_xticks(range(len(columns)))
        ax.set_xticklabels([c.replace('_', ' ') for c in columns], fontsize=8)
        ax.set_ylabel(f'{title} (%)')
        top = max((row[c] or 0) for row in rows for c in columns)
        ax.set_ylim(0, min(100, max(5, top * 1.25)))
        ax.grid(axis='y', alpha=0.3)
        ax.legend(fontsize=7, ncol=len(rows), loc='upper right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def loss_figure(curves: Mapping[str, List[dict]], labels: Mapping[str, str], path: Path) -> Path:
    """One panel per pretraining algorithm: the total loss and each term, smoothed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.0), squeeze=False)
    for ax, (algo, recs) in zip(axes[0], curves.items()):
        iters = [r['iter'] for r in recs]
        window = max(1, len(recs) // 30)
        terms = sorted({k for r in recs for k in r if k.startswith('loss')},
                       key=lambda k: (k != 'loss', k))
        for term in terms:
            values = [r.get(term, float('nan')) for r in recs]
            ax.plot(iters, smooth(values, window), label=term,
                    lw=2.0 if term == 'loss' else 1.0)
        ax.set_title(f'{labels[algo]} pretraining', fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel('loss (moving average)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _attention_table(encoders: Mapping[str, dict], labels: Mapping[str, str],
                     root: Path) -> List[str]:
    scales = list(next(iter(encoders.values()))['scales'])
    lines = ['| encoder | ' + ' | '.join(f'on text at {s}' for s in scales)
             + f' | chance at {scales[-1]} | maps |',
             '|---|' + '---:|' * (len(scales) + 1) + '---|']
    for name, res in encoders.items():
        kind, init = name.split('_', 1)
        cells = [f'{100 * res["scales"][s]["text_attention_fraction"]:.1f}%' for s in scales]
        chance = res['scales'][scales[-1]]['chance']
        png = os.path.relpath(res['png'], root)
        lines.append(f'| {labels[init]} ({kind}) | ' + ' | '.join(cells)
                     + f' | {100 * chance:.1f}% | [png]({png}) |')
    return lines


def reading_table(records: Mapping[str, dict], test_sets: Sequence[str], inits: Sequence[str],
                  labels: Mapping[str, str]) -> ReadingTable:
    """Per-crop scores of every fine-tuned model (and Tesseract, if it ran) on the test sets."""
    import json
    methods = {labels[i]: {s: read_predictions(Path(records[f'finetune_{i}']['predictions'])
                                               / f'{s}.jsonl') for s in test_sets}
               for i in inits}
    ref = records.get('reference', {})
    if ref.get('installed'):
        methods['Tesseract'] = {s: read_predictions(Path(ref['predictions']) / f'{s}.jsonl')
                                for s in test_sets}
    train = json.loads((Path(records['render']['finetune']) / 'textrecog_train.json')
                       .read_text())['data_list']
    train_labels = [e['instances'][0]['text'] for e in train]
    return ReadingTable(methods, train_labels, list(test_sets))


def _reading_section(table: ReadingTable, reference: str, tesseract: str) -> List[str]:
    counts = table.counts()
    oov = sum(c['oov'] for c in counts.values())
    iv = sum(c['iv'] for c in counts.values())
    return [
        '## Reading: words the recognisers never saw',
        '',
        f'Out-of-vocabulary (OOV) crops, {oov} in all: held-out words (a tenth of the '
        'vocabulary, never a training label), random letter/digit strings and numbers. '
        'WAICS %, each set\'s value and the mean over sets with its 95% bootstrap interval '
        '(crops resampled within each set). `held_out_fonts` uses font families that no '
        'training or pretraining crop uses. "random training label" answers a uniformly '
        'drawn training label (its exact expected score). Tesseract: ' + tesseract + '.',
        '',
        *table.markdown('word', 'oov'),
        '',
        'Paired differences on the same OOV crops (mean over sets, 95% bootstrap interval):',
        '',
        *table.difference_lines(reference, 'oov', skip=('Tesseract', )),
        '',
        f'In-vocabulary (IV) crops, {iv} in all: the label is also a training label '
        '(recall of a seen word is enough; a set without IV crops leaves the average '
        'empty). WAICS %:',
        '',
        *table.markdown('word', 'iv'),
        '',
        'OOV 1 - normalised edit distance % (partial credit):',
        '',
        *table.markdown('ned', 'oov'),
        '',
        'Crops per set (OOV / IV): ' + ', '.join(f'{s} {c["oov"]}/{c["iv"]}'
                                                 for s, c in counts.items()) + '.',
        '']


def _findings(rows: Sequence[dict], inits: Sequence[str], metric: str) -> List[str]:
    """Plain statements of what a table shows: each initialisation against scratch."""
    by_init = dict(zip(inits, rows))
    scratch = by_init['scratch']
    sets = [c for c in scratch if c not in (R.NAME_COLUMN, R.AVG, R.WAVG)]
    lines = [f'- {metric}, from scratch: {scratch[R.AVG]:.1f}% on average.']
    for init in inits[1:]:
        row = by_init[init]
        better = sum(1 for c in sets if row[c] is not None and scratch[c] is not None
                     and row[c] > scratch[c])
        lines.append(f'- {metric}, {row[R.NAME_COLUMN]}: {row[R.AVG]:.1f}% '
                     f'({row[R.AVG] - scratch[R.AVG]:+.1f} points vs scratch; above '
                     f'scratch on {better} of {len(sets)} test sets).')
    top = max(r[R.AVG] for r in rows)
    best = [r[R.NAME_COLUMN] for r in rows if r[R.AVG] == top]
    lines.append(f'- {metric}, best average: {", ".join(best)}.' if len(best) < len(rows)
                 else f'- {metric}: all four initialisations have the same average.')
    return lines


def write_report(root: Path, profile_name: str, profile, records: Mapping[str, dict],
                 test_sets: Mapping[str, str], inits: Sequence[str], labels: Mapping[str, str],
                 wall_seconds: float, command: str) -> Path:
    """Write ``root/report.md``, ``root/results.png`` and ``root/pretrain_losses.png``.

    Args:
        root: The demo work dir.
        profile_name: ``'quick'`` or ``'default'``.
        profile: The profile dataclass (sizes and budgets).
        records: Stage name -> the stage's ``done.json`` record.
        test_sets: Test-set name -> renderer preset, in table order.
        inits: Fine-tuning initialisations, ``'scratch'`` first.
        labels: Display names of the initialisations / algorithms.
        wall_seconds: Time of this invocation (stages skipped as done cost ~0).
        command: The command line that reproduces the whole run.

    Returns:
        The path of ``report.md``.
    """
    root = Path(root)
    pretrain = [i for i in inits if i != 'scratch']
    reading = reading_table(records, list(test_sets), inits, labels)
    ref = records.get('reference', {})
    tesseract = ref.get('version', 'not installed (Debian tesseract-ocr)') + (
        ', --psm 7 on 3x upscaled crops' if ref.get('installed') else '')
    runs = load_runs(records, inits, labels)
    rows, ned_rows = R.build_table(runs, MAIN_METRIC), R.build_table(runs, EXTRA_METRIC)
    bar_chart({'WAICS': rows, '1 - N.E.D': ned_rows}, inits, root / 'results.png')
    curves = {a: read_losses(Path(records[f'pretrain_{a}']['checkpoint']).parent /
                             'losses.jsonl') for a in pretrain}
    loss_figure(curves, labels, root / 'pretrain_losses.png')
    P = profile
    stage_total = stages_wall_seconds(records)
    sizes = records['render']['sizes']

    out = [f'# mnsp_mm demo: pretraining for text recognition on synthetic data ({profile_name})',
           '',
           f'Generated {time.strftime("%Y-%m-%d %H:%M")} on {os.cpu_count()} CPU cores '
           f'({platform.machine()}), {_versions()}. Stages took {_minutes(stage_total)} in all '
           f'(this invocation: {_minutes(wall_seconds)}).',
           '',
           f'Setup: a tiny TextViT (a small CNN as patch embedding, 4 layers, 96-d, 8x8 patches '
           f'on 32x128 crops) is pretrained on {sizes["pool"]} unlabeled synthetic crops '
           f'(mixed-case words, strings and numbers in the training fonts) with MAE '
           f'({P.mae_iters} iterations), '
           f'then LMIM ({P.lmim_iters}) and MNSP ({P.mnsp_iters}) continue from the MAE '
           f'encoder, which is also their frozen teacher (batch {P.pretrain_batch}). The '
           f'recogniser (the TextViT with a CTC head over its 16 token columns) is '
           f'fine-tuned from scratch and from each encoder on '
           f'{sizes["train"]} labeled crops (lower-case labels, 36 classes) for '
           f'{P.finetune_iters} iterations '
           f'(batch {P.finetune_batch}; same seed, data order and schedule for all four; '
           f'layer-wise lr decay 0.75 for the pretrained encoders), '
           f'then its last checkpoint is tested on {len(test_sets)} held-out sets of '
           f'{P.test} crops. The README ("The demo") says how each setting was chosen and '
           f'on which data: layer-wise lr decay 0.75 was chosen by an earlier version of the '
           f'demo after seeing its (then in-vocabulary) test sets; the label count and the '
           f'budget were chosen on a validation split of its own (README).',
           '',
           *_reading_section(reading, labels[inits[0]], tesseract),
           '## All crops, MMOCR metrics',
           '',
           'Word accuracy ignoring case and symbols (WAICS, %, MMOCR `WordMetric`) over all '
           'crops of each set, OOV and IV together:',
           '',
           R.to_markdown(rows, decimals=1),
           '',
           *[f'{n}' for n in R.table_notes(rows, {k: P.test for k in test_sets})],
           '',
           '1 - normalised edit distance (%, MMOCR `OneMinusNEDMetric`; partial credit for '
           'partly right words):',
           '',
           R.to_markdown(ned_rows, decimals=1),
           '',
           '![WAICS and 1 - N.E.D per test set](results.png)',
           '',
           *_findings(rows, inits, 'WAICS'),
           *_findings(ned_rows, inits, '1 - N.E.D'),
           '',
           f'### {R.PUBLISHED_HEADING}',
           '',
           'Real benchmarks with ViT-S models pretrained on millions of crops: context for '
           'the ordering, not comparable with the synthetic numbers above.',
           '',
           R.to_markdown(R.published_rows(), R.PUBLISHED_COLUMNS, decimals=1),
           '',
           '## Pretraining',
           '',
           '| algorithm | iterations x batch | loss (first -> last 10%) | time |',
           '|---|---:|---:|---:|']
    for a in pretrain:
        r = records[f'pretrain_{a}']
        out.append(f'| {labels[a]} | {r["iters"]} x {P.pretrain_batch} | {r["loss_first"]:.3f}'
                   f' -> {r["loss_last"]:.3f} | {_minutes(r["seconds"])} |')
    out += ['', '![pretraining losses](pretrain_losses.png)', '',
            '## Where the encoders look',
            '',
            'Share of the last layer\'s [cls] attention that falls on glyph pixels '
            f'({P.attention_images} crops of the `regular` test set, glyph masks from the '
            'renderer), next to a uniform map\'s share (chance):',
            '']
    out += _attention_table(records['attention']['encoders'], labels, root)
    out += ['', '## Time per stage', '',
            f'{_minutes(stage_total)} in all. Stages marked * ran side by side (`--jobs`), '
            'each with its share of the cores; their times overlap.', '',
            '| stage | time | result |', '|---|---:|---|']
    for name, r in records.items():
        mark = ' *' if r.get('group') else ''
        out.append(f'| {name}{mark} | {_minutes(r["seconds"])} | {r["line"]} |')
    out += ['', '## Reproduce', '', 'The whole demo (stages already done are skipped):', '',
            f'    {command}', '',
            'Each stage on its own (the configs are in `configs/`, written by the demo):', '']
    for name, r in records.items():
        out.append(f'- {name}:')
        out += [f'      {c}' for c in r.get('commands', [])]
    out += ['', f'Profile `{profile_name}`: ' + ', '.join(
        f'{k}={v}' for k, v in dataclasses.asdict(P).items()) + '.', '']
    report = root / 'report.md'
    report.write_text('\n'.join(out), encoding='utf-8')
    return report
