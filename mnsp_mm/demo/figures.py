"""The report's figures: WAICS per test set, pretraining loss curves, the forest plot."""
from pathlib import Path
from typing import List, Mapping, Sequence

from .. import evaluation as R
from ..engine.progress import smooth

COLOURS = {'scratch': '#9e9e9e', 'mae': '#1f77b4', 'lmim': '#ff7f0e', 'mnsp': '#2ca02c'}
GROUP_COLOURS = {'main': '#1f77b4', 'teacher-free': '#9467bd', 'ablation': '#8c564b'}


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def bar_chart(tables: Mapping[str, Sequence[dict]], inits: Sequence[str], path: Path) -> Path:
    """One panel per metric; in each, a group per test set (and the average), a bar per
    initialisation.

    Args:
        tables: Metric title -> rows of ``results.build_table`` (percentages).
        inits: The initialisations, in row order (for the colours).
        path: PNG to write.
    """

    plt = _pyplot()
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

def loss_figure(curves: Mapping[str, List[dict]], labels: Mapping[str, str], path: Path,
                columns: int = 4) -> Path:
    """A panel per pretraining run (``columns`` a row): the total loss and each term,
    smoothed."""
    plt = _pyplot()
    cols = min(columns, len(curves))
    rows = -(-len(curves) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.axis('off')
    for ax, (algo, recs) in zip(axes.flat, curves.items()):
        iters = [r['iter'] for r in recs]
        window = max(1, len(recs) // 30)
        terms = sorted({k for r in recs for k in r if k.startswith('loss')},
                       key=lambda k: (k != 'loss', k))
        for term in terms:
            values = [r.get(term, float('nan')) for r in recs]
            ax.plot(iters, smooth(values, window), label=term,
                    lw=2.0 if term == 'loss' else 1.0)
        ax.set_title(labels[algo], fontsize=9)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel('loss (moving average)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def forest_plot(differences: Sequence[tuple], reference: str, path: Path) -> Path:
    """A row per method: its paired difference to ``reference`` with the 95% interval.

    Args:
        differences: ``(label, group, Interval)`` in percentage points, top row first.
        reference: the label the differences are taken to (the line at 0).
        path: PNG to write.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(differences) + 1.2))
    for y, (label, group, d) in enumerate(reversed(differences)):
        colour = GROUP_COLOURS.get(group, '#333333')
        ax.errorbar([d.value], [y], xerr=[[d.value - d.low], [d.high - d.value]], fmt='o',
                    color=colour, capsize=3)
    ax.set_yticks(range(len(differences)))
    ax.set_yticklabels([label for label, _, _ in reversed(differences)], fontsize=8)
    ax.axvline(0, color='k', lw=0.8)
    ax.set_xlabel(f'OOV WAICS minus {reference} (points, paired 95% interval)')
    ax.grid(axis='x', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
