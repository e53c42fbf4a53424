"""One table of text-recognition metrics over several runs, as markdown or CSV (no torch).

Runs come from :mod:`.collect`, the averages are those of :mod:`.benchmarks` (values are
fractions in [0, 1]; tables print them as percentages), and :func:`render` appends the
published numbers of :mod:`.published` as a separate table.

A row missing a value for an averaged set gets ``-`` for that average (never a partial mean).

Example:
    >>> runs = [load_run_metrics('work_dirs/maerec_ft/test_metrics.json')]
    >>> rows = build_table(runs, 'word_acc_ignore_case_symbol')
    >>> print(to_markdown(rows))
"""
import csv
import io
from typing import Dict, Iterable, List, Optional, Sequence

from .benchmarks import (AVG, DEFAULT_COUNTS, SIX_BENCHMARKS, U14M_AVG, U14M_AVG_SUBSETS, WAVG,
                         average_sets, canonical_dataset, order_datasets)
from .collect import DEFAULT_METRIC, ResultsError, is_number, select_metric
from .published import (PUBLISHED_COLUMNS, PUBLISHED_HEADING, PUBLISHED_METRIC,
                        published_rows)

NAME_COLUMN = 'run'



def _mean(values: Sequence[Optional[float]], weights: Optional[Sequence[float]] = None):
    if not values or any(v is None for v in values):
        return None
    weights = weights or [1.0] * len(values)
    return sum(v * w for v, w in zip(values, weights)) / sum(weights)



def parse_counts(items: Optional[Iterable[str]]) -> Dict[str, int]:
    """Parse ``NAME=N`` strings (``--counts IIIT5K=3000 curve=2426``).

    Args:
        items: The strings, or None.

    Returns:
        Canonical dataset name -> count.

    Raises:
        ResultsError: On a malformed item or a non-positive count.
    """
    out = {}
    for item in items or []:
        key, sep, value = item.rpartition('=')
        try:
            n = int(value)
        except ValueError:
            n = 0
        if not sep or not key or n <= 0:
            raise ResultsError(f'bad --counts item {item!r}: expected NAME=N with N > 0')
        out[canonical_dataset(key)] = n
    return out



def build_table(runs: Sequence[dict], metric: str = DEFAULT_METRIC,
                counts: Optional[Dict[str, int]] = None) -> List[dict]:
    """One row per run, one column per dataset, plus the averages (percentages).

    Args:
        runs: Dicts from :func:`load_run_metrics` (``name`` and ``metrics`` are used, and
            ``counts`` when present).
        metric: Which metric to tabulate (see :func:`select_metric`).
        counts: Instance counts overriding the defaults and the runs' own ``counts``.

    Returns:
        Rows as dicts with identical keys in column order: ``'run'`` (the name), the dataset
        columns (:func:`order_datasets`), then ``avg``, ``weighted avg`` (left out when a
        count is unknown for an averaged set) and ``U14M avg`` (only when the Union14M
        subsets are shown). Values are percentages (fraction x 100, unrounded) or None
        where a run has no value. Duplicate run names get `` (2)``, `` (3)``, ... appended.

    Raises:
        ResultsError: If ``runs`` is empty or the metric matches nothing in a run.
    """
    if not runs:
        raise ResultsError('no runs given')
    per_run = [select_metric(r, metric) for r in runs]
    datasets = order_datasets(d for values in per_run for d in values)
    avg_sets, u14m_sets = average_sets(datasets)

    run_counts = []
    for run in runs:
        c = dict(DEFAULT_COUNTS)
        c.update(run.get('counts') or {})
        c.update(counts or {})
        run_counts.append(c)
    with_weighted = bool(avg_sets) and all(d in c for c in run_counts for d in avg_sets)

    rows, used = [], {}
    for run, values, c in zip(runs, per_run, run_counts):
        name = str(run['name'])
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f'{name} ({used[name]})'
        row = {NAME_COLUMN: name}
        for d in datasets:
            row[d] = values[d] * 100 if d in values else None
        if avg_sets:
            row[AVG] = _mean([row[d] for d in avg_sets])
            if with_weighted:
                row[WAVG] = _mean([row[d] for d in avg_sets], [c[d] for d in avg_sets])
        if u14m_sets:
            row[U14M_AVG] = _mean([row[d] for d in u14m_sets])
        rows.append(row)
    return rows



def _cell(value, decimals: int) -> str:
    if value is None:
        return '-'
    if is_number(value):
        return f'{value:.{decimals}f}'
    return str(value)



def to_markdown(rows: Sequence[dict], columns: Optional[Sequence[str]] = None,
                decimals: int = 2) -> str:
    """Render rows as a GitHub markdown table.

    Args:
        rows: Dicts (e.g. from :func:`build_table`).
        columns: Column order; defaults to the keys of the first row.
        decimals: Digits after the point for numbers; None is shown as ``-``.

    Returns:
        The table, one line per row, without a trailing newline.
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    numeric = [all(row.get(c) is None or is_number(row.get(c)) for row in rows)
               for c in columns]  # numbers right-aligned, text left
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + '|'.join('---:' if num and i else '---' for i, num in enumerate(numeric))
             + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(_cell(row.get(c), decimals) for c in columns) + ' |')
    return '\n'.join(lines)



def to_csv(rows: Sequence[dict], columns: Optional[Sequence[str]] = None,
           decimals: int = 2) -> str:
    """Render rows as CSV (header line first; missing values as ``-``).

    Args:
        rows: Dicts (e.g. from :func:`build_table`).
        columns: Column order; defaults to the keys of the first row.
        decimals: Digits after the point for numbers.

    Returns:
        CSV text with ``\\n`` line ends.
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c), decimals) for c in columns])
    return buf.getvalue()



def table_notes(rows: Sequence[dict], counts: Optional[Dict[str, int]] = None) -> List[str]:
    """Plain-language notes saying what each average covers.

    Args:
        rows: Rows from :func:`build_table`.
        counts: The ``counts`` given to :func:`build_table` (for the weights shown).

    Returns:
        One sentence per average column present.
    """
    if not rows:
        return []
    cols = list(rows[0])
    datasets = [c for c in cols if c not in (NAME_COLUMN, AVG, WAVG, U14M_AVG)]
    avg_sets, u14m_sets = average_sets(datasets)
    notes = []
    if AVG in cols:
        partial = ('' if set(SIX_BENCHMARKS) <= set(avg_sets)
                   else ' (not the six benchmarks: not comparable to the published avg)')
        notes.append(f'avg: plain mean over {", ".join(avg_sets)}{partial}.')
    if WAVG in cols:
        weights = dict(DEFAULT_COUNTS, **(counts or {}))
        shown = ', '.join(f'{d} {weights[d]}' if d in weights else d for d in avg_sets)
        notes.append(f'weighted avg: the same sets weighted by instance counts ({shown}; '
                     'counts in a metrics json override the defaults, --counts overrides '
                     'both).')
    elif AVG in cols:
        notes.append('weighted avg: left out, instance counts unknown for some of '
                     f'{", ".join(avg_sets)} (give them with --counts NAME=N).')
    if U14M_AVG in cols:
        partial = ('' if len(u14m_sets) == len(U14M_AVG_SUBSETS)
                   else f' (only {len(u14m_sets)} of {len(U14M_AVG_SUBSETS)} subsets: not '
                   'comparable to the published U14M avg)')
        notes.append(f'U14M avg: plain mean over {", ".join(u14m_sets)}{partial}; '
                     'incomplete / incomplete-ori are not averaged (as in the Union14M '
                     'paper).')
    notes.append('A "-" average means the run lacks one of the averaged sets.')
    return notes



def render(runs: Sequence[dict], metric: str = DEFAULT_METRIC,
           counts: Optional[Dict[str, int]] = None, fmt: str = 'markdown',
           published: bool = True, decimals: int = 2) -> str:
    """The full report: our table, notes, sources and (apart) the published numbers.

    Args:
        runs: Dicts from :func:`load_run_metrics`.
        metric: Metric to tabulate.
        counts: Instance counts (see :func:`build_table`).
        fmt: ``'markdown'`` or ``'csv'``. CSV holds our table first; the published table
            follows after an empty line and a ``# published ...`` line (use
            ``published=False`` for a single-table CSV).
        published: Whether to append the published numbers as a separate table.
        decimals: Digits after the point for our numbers (published ones are printed as
            reported, with one decimal).

    Returns:
        The text, ending with a newline.

    Raises:
        ResultsError: See :func:`build_table`; also for an unknown ``fmt``.
    """
    if fmt not in ('markdown', 'csv'):
        raise ResultsError(f'unknown format {fmt!r} (markdown or csv)')
    rows = build_table(runs, metric, counts)
    pub_heading = f'{PUBLISHED_HEADING}; {PUBLISHED_METRIC} (WAICS), %'
    if metric != PUBLISHED_METRIC:
        pub_heading += f' - a different metric from ours ({metric})'
    if fmt == 'csv':
        text = to_csv(rows, decimals=decimals)
        if published:
            pub = io.StringIO()
            csv.writer(pub, lineterminator='\n').writerow([f'# {pub_heading}'])
            text += '\n' + pub.getvalue() + to_csv(published_rows(), PUBLISHED_COLUMNS, 1)
        return text
    parts = [f'## Our runs: {metric} (%)', '', to_markdown(rows, decimals=decimals), '']
    parts += [f'- {n}' for n in table_notes(rows, counts)]
    parts += ['', 'Sources:']
    for row, run in zip(rows, runs):
        extra = [f'step {run["step"]}' if run.get('step') is not None else '',
                 f'config {run["config"]}' if run.get('config') else '',
                 f'checkpoint {run["checkpoint"]}' if run.get('checkpoint') else '']
        extra = '; '.join(e for e in extra if e)
        parts.append(f'- {row[NAME_COLUMN]}: {run["source"]}' + (f' ({extra})' if extra else ''))
    if published:
        parts += ['', f'## {pub_heading}', '',
                  to_markdown(published_rows(), PUBLISHED_COLUMNS, decimals=1)]
    return '\n'.join(parts) + '\n'

