"""Collect text-recognition metrics from several runs into one table (no torch needed).

Inputs (any mix):

* ``test_metrics.json`` written by ``tools/test.py``:
  ``{"config": str, "checkpoint": str, "metrics": {name: float}, "counts": {set: int}?}``.
* mmengine run logs: ``<work_dir>/<timestamp>/vis_data/scalars.json`` (JSON lines; train
  lines mixed with val lines) and ``<work_dir>/<timestamp>/<timestamp>.json`` (the same lines
  for training runs, one JSON object for test runs). The last line holding metrics is used,
  or the best line by a chosen key.
* a work dir (or a timestamp dir): the newest of the files above that holds metrics.

Metric keys follow MMOCR's ``MultiDatasetsEvaluator``: ``{dataset_prefix}/{metric_prefix}/
{name}``, e.g. ``IIIT5K/recog/word_acc_ignore_case_symbol`` (``metric_prefix`` is ``recog``
for ``WordMetric``, ``CharMetric`` and ``OneMinusNEDMetric``; names ``word_acc``,
``word_acc_ignore_case``, ``word_acc_ignore_case_symbol``, ``char_recall``,
``char_precision``, ``1-N.E.D``). A plain ``Evaluator`` (one test set) writes
``recog/{name}``; that set is shown as the column ``all``. Values are fractions in [0, 1];
tables print them as percentages.

Averages:

* ``avg``: plain mean over the six common benchmarks shown (IIIT5K, IC13, SVT, IC15, SVTP,
  CUTE80), or, when none of them is shown, over all shown sets that are not Union14M subsets.
  This is how the papers' "avg" is computed (MAERec-S: 570.6 / 6 = 95.1).
* ``weighted avg``: the same sets weighted by instance counts (defaults for the six
  benchmarks; other sets need ``counts``); the column is left out when a count is unknown.
* ``U14M avg``: plain mean over the seven Union14M-Benchmark subsets the Union14M paper
  averages (curve, multi-oriented, artistic, contextless, salient, multi-words, general);
  ``incomplete`` / ``incomplete-ori`` are shown but not averaged, as in the paper (MAERec-S:
  550.2 / 7 = 78.6).

A row missing a value for an averaged set gets ``-`` for that average (never a partial mean).

Example:
    >>> runs = [load_run_metrics('work_dirs/maerec_ft/test_metrics.json')]
    >>> rows = build_table(runs, 'word_acc_ignore_case_symbol')
    >>> print(to_markdown(rows))
"""
import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

PathLike = Union[str, Path]

DEFAULT_METRIC = 'word_acc_ignore_case_symbol'
SIX_BENCHMARKS = ('IIIT5K', 'IC13', 'SVT', 'IC15', 'SVTP', 'CUTE80')
U14M_SUBSETS = ('artistic', 'multi-oriented', 'contextless', 'curve', 'incomplete',
                'incomplete-ori', 'multi-words', 'salient', 'general')
# The subsets behind the Union14M paper's "Avg" (incomplete ones are reported separately).
U14M_AVG_SUBSETS = ('artistic', 'multi-oriented', 'contextless', 'curve', 'multi-words',
                    'salient', 'general')
DEFAULT_COUNTS = {'IIIT5K': 3000, 'IC13': 1015, 'SVT': 647, 'IC15': 2077, 'SVTP': 645,
                  'CUTE80': 288}
SINGLE_SET = 'all'  # column name for metrics of a plain (single-dataset) Evaluator

AVG, WAVG, U14M_AVG = 'avg', 'weighted avg', 'U14M avg'
NAME_COLUMN = 'run'
PUBLISHED_NAME_COLUMN = 'method'
PUBLISHED_HEADING = 'published (from the papers, not run here)'
PUBLISHED_METRIC = DEFAULT_METRIC

# DESIGN.md section 2, "Reported numbers to print beside ours" (WAICS, %). Missing = None.
PUBLISHED_COLUMNS = [PUBLISHED_NAME_COLUMN, *SIX_BENCHMARKS, AVG, U14M_AVG, 'source']
PUBLISHED_ROWS = [
    {PUBLISHED_NAME_COLUMN: 'MAERec-S', 'IIIT5K': 98.0, 'IC13': 97.6, 'SVT': 96.8,
     'IC15': 87.1, 'SVTP': 93.2, 'CUTE80': 97.9, AVG: 95.1, U14M_AVG: 78.6,
     'source': 'Union14M, ICCV 2023'},
    {PUBLISHED_NAME_COLUMN: 'LMIM (U14M-L)', 'IIIT5K': 98.5, 'IC13': 98.0, 'SVT': 97.7,
     'IC15': 88.7, 'SVTP': 94.0, 'CUTE80': 98.6, AVG: 95.9, U14M_AVG: '84.7 (20 ep: 86.3)',
     'source': 'LMIM, CVPR 2025'},
    {PUBLISHED_NAME_COLUMN: 'MNSP', AVG: 96.7, U14M_AVG: 86.2,
     'source': 'MNSP, arXiv 2605.14885 (abstract)'},
]

# Keys of mmengine train/val log lines that are never metrics.
_LOG_KEYS = {'step', 'epoch', 'iter', 'lr', 'base_lr', 'time', 'data_time', 'memory',
             'grad_norm', 'loss'}
_KNOWN_METRIC_NAMES = {'word_acc', 'word_acc_ignore_case', 'word_acc_ignore_case_symbol',
                       'char_recall', 'char_precision', '1-N.E.D'}
_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
_ALIASES = {'iiit5k': 'IIIT5K', 'iiit5k_3000': 'IIIT5K', 'iiit': 'IIIT5K',
            'ic13': 'IC13', 'ic13_1015': 'IC13', 'svt': 'SVT', 'svt_647': 'SVT',
            'ic15': 'IC15', 'ic15_2077': 'IC15', 'svtp': 'SVTP', 'svtp_645': 'SVTP',
            'cute80': 'CUTE80', 'cute': 'CUTE80', 'cute_288': 'CUTE80'}
_U14M_PREFIX = re.compile(r'^(union14m(-benchmark)?|u14m)[-_/]', re.I)


class ResultsError(ValueError):
    """A run without metrics, an unknown metric name, or a bad option (message says which)."""


def canonical_dataset(name: str) -> str:
    """Map a dataset prefix to the name used as a column.

    The six common benchmarks are matched case-insensitively (``cute`` -> ``CUTE80``,
    ``IC15_2077`` -> ``IC15``; ``IC13_857`` / ``IC15_1811`` are different sets and stay as
    they are). Union14M-Benchmark subsets are matched case-insensitively, ``_`` read as ``-``,
    with an optional ``union14m-`` / ``u14m-`` prefix. Anything else is returned unchanged.

    Args:
        name: The dataset prefix found in a metric key.

    Returns:
        The canonical column name.
    """
    low = name.strip().lower()
    if low in _ALIASES:
        return _ALIASES[low]
    sub = _U14M_PREFIX.sub('', low).replace('_', '-')
    if sub in U14M_SUBSETS:
        return sub
    return name


def split_metric_key(key: str) -> Tuple[str, str]:
    """Split an MMOCR metric key into ``(dataset, metric_name)``.

    ``IIIT5K/recog/word_acc`` -> ``('IIIT5K', 'word_acc')``; ``recog/word_acc`` (a plain
    ``Evaluator``) -> ``('all', 'word_acc')``; ``IIIT5K/word_acc`` (metric without prefix)
    -> ``('IIIT5K', 'word_acc')``.

    Args:
        key: A metric key as logged by mmengine.

    Returns:
        The canonical dataset name and the metric name (last path component).
    """
    parts = key.split('/')
    name = parts[-1]
    if len(parts) >= 3:
        dataset = '/'.join(parts[:-2])
    elif len(parts) == 2 and parts[0] != 'recog':
        dataset = parts[0]
    else:
        dataset = SINGLE_SET
    return canonical_dataset(dataset), name


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def is_metric_key(key: str) -> bool:
    """Whether a log key is an evaluation metric (not a train/timing scalar).

    Args:
        key: A key of an mmengine log line.

    Returns:
        True for MMOCR metric keys (``.../recog/...`` style or a known metric name).
    """
    if key in _LOG_KEYS or key.startswith('loss') or key.endswith('lr'):
        return False
    return '/' in key or key in _KNOWN_METRIC_NAMES


def _metrics_of(record: dict) -> Dict[str, float]:
    return {k: float(v) for k, v in record.items() if is_metric_key(k) and _is_number(v)}


def read_log_records(path: PathLike) -> List[dict]:
    """Read an mmengine log json: JSON lines, or one JSON object (a test run's log).

    Lines that are not JSON objects (e.g. a line cut off by a killed run) are skipped.

    Args:
        path: ``scalars.json`` or ``<timestamp>.json``.

    Returns:
        The records in file order.
    """
    text = Path(path).read_text(encoding='utf-8')
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return [whole]
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            records.append(rec)
    return records


def _key_matches(key: str, wanted: str) -> bool:
    return key == wanted or key.endswith('/' + wanted)


def _best_score(metrics: Dict[str, float], best: str) -> Optional[float]:
    vals = [v for k, v in metrics.items() if _key_matches(k, best)]
    return sum(vals) / len(vals) if vals else None


def _default_name(path: Path, kind: str) -> str:
    if kind == 'metrics_json':
        return path.parent.name if path.name == 'test_metrics.json' else path.stem
    # log json: <work_dir>/<ts>/vis_data/scalars.json or <work_dir>/<ts>/<ts>.json
    ts_dir = path.parent.parent if path.parent.name == 'vis_data' else path.parent
    if _TIMESTAMP.match(ts_dir.name) or path.stem == ts_dir.name:
        return ts_dir.parent.name or ts_dir.name
    return ts_dir.name


def _load_file(path: Path, best: Optional[str]) -> Optional[dict]:
    """Metrics of one file, or None when it holds none."""
    try:
        records = read_log_records(path)
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f'cannot read {path}: {e}') from e
    if len(records) == 1 and isinstance(records[0].get('metrics'), dict):
        rec = records[0]
        metrics = _metrics_of(rec['metrics']) or {
            k: float(v) for k, v in rec['metrics'].items() if _is_number(v)}
        if not metrics:
            return None
        counts = rec.get('counts') or {}
        return dict(metrics=metrics, kind='metrics_json', step=None,
                    config=rec.get('config'), checkpoint=rec.get('checkpoint'),
                    counts={canonical_dataset(str(k)): int(v) for k, v in counts.items()})
    lines = [(rec.get('step'), m) for rec in records for m in [_metrics_of(rec)] if m]
    if not lines:
        return None
    if best:
        scored = [(s, step, m) for step, m in lines for s in [_best_score(m, best)]
                  if s is not None]
        if not scored:
            names = sorted({k for _, m in lines for k in m})
            raise ResultsError(f'--best {best!r} matches no metric in {path}; '
                               f'metrics there: {", ".join(names)}')
        # max() keeps the first of equal scores; prefer the later line on ties.
        _, step, metrics = max(reversed(scored), key=lambda t: t[0])
    else:
        step, metrics = lines[-1]
    return dict(metrics=metrics, kind='log_json', step=step, config=None, checkpoint=None,
                counts={})


def find_metric_files(work_dir: PathLike) -> List[Path]:
    """Candidate metric files under a work dir (or a timestamp dir), newest first.

    Looks for ``test_metrics.json``, ``*/vis_data/scalars.json`` and ``<ts>/<ts>.json``
    (up to two levels below ``work_dir``), plus ``vis_data/scalars.json`` and
    ``<ts>.json`` when ``work_dir`` is itself a timestamp dir.

    Args:
        work_dir: The directory to search.

    Returns:
        Existing files sorted by modification time, newest first.
    """
    root = Path(work_dir)
    found = set(root.glob('test_metrics.json')) | set(root.glob('*/test_metrics.json'))
    found |= set(root.glob('vis_data/scalars.json')) | set(root.glob('*/vis_data/scalars.json'))
    for d in [root, *[p for p in root.iterdir() if p.is_dir()]]:
        log = d / f'{d.name}.json'
        if log.is_file():
            found.add(log)
    files = [p for p in found if p.is_file()]
    # Newest first; on equal times prefer test_metrics.json (it names config and checkpoint).
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name == 'test_metrics.json'),
                  reverse=True)


def load_run_metrics(path: PathLike, best: Optional[str] = None,
                     name: Optional[str] = None) -> dict:
    """Load the metrics of one run.

    Args:
        path: A ``test_metrics.json`` (or any ``{"metrics": {...}}`` json), an mmengine log
            json (``scalars.json`` / ``<timestamp>.json``) or a work dir / timestamp dir
            (the newest file in it that holds metrics is used).
        best: For log files, pick the line with the highest value of this key instead of
            the last line with metrics. The key is a full metric key or its tail (e.g.
            ``IIIT5K/recog/word_acc`` or ``word_acc_ignore_case_symbol``); when it matches
            several keys of a line (one per dataset), their mean is the score. Ignored for
            metrics jsons (they hold one set of metrics).
        name: Row name; defaults to the run dir name (the work dir for logs and work dirs,
            the folder of ``test_metrics.json``, or the stem of another metrics json).

    Returns:
        ``{'name', 'path', 'source', 'kind', 'step', 'config', 'checkpoint', 'metrics',
        'counts'}`` where ``metrics`` maps metric keys to fractions, ``counts`` maps dataset
        names to instance counts carried by the file (may be empty), ``source`` is the file
        actually read and ``step`` the log step of the chosen line (None for metrics jsons).

    Raises:
        ResultsError: If the path does not exist or holds no metrics (the message names it).
    """
    p = Path(path)
    if not p.exists():
        raise ResultsError(f'run not found: {p}')
    if p.is_dir():
        candidates = find_metric_files(p)
        loaded = None
        for cand in candidates:
            loaded = _load_file(cand, best)
            if loaded:
                source = cand
                break
        if not loaded:
            looked = ', '.join(str(c) for c in candidates) or 'none found'
            raise ResultsError(
                f'no metrics found in work dir {p} (looked for test_metrics.json, '
                f'*/vis_data/scalars.json, <timestamp>/<timestamp>.json: {looked})')
        default = p.parent.name if _TIMESTAMP.match(p.name) else p.resolve().name
    else:
        loaded = _load_file(p, best)
        if not loaded:
            raise ResultsError(
                f'no metrics found in {p} (expected a test_metrics.json '
                '{"metrics": {...}} or an mmengine log json with val/test lines)')
        source = p
        default = _default_name(p.resolve(), loaded['kind'])
    return dict(name=name or default, path=str(p), source=str(source), **loaded)


def metric_names(metrics: Dict[str, float]) -> Tuple[List[str], List[str]]:
    """The distinct metric names and dataset names among metric keys.

    Args:
        metrics: Metric key -> value.

    Returns:
        ``(metric_names, dataset_names)``, each sorted.
    """
    split = [split_metric_key(k) for k in metrics]
    return sorted({n for _, n in split}), sorted({d for d, _ in split})


def select_metric(run: dict, metric: str = DEFAULT_METRIC) -> Dict[str, float]:
    """Values of one metric per dataset for a run.

    Args:
        run: A dict from :func:`load_run_metrics`.
        metric: A metric name (``word_acc_ignore_case_symbol``) or the tail of / a full
            metric key (``recog/word_acc``, ``IIIT5K/recog/word_acc``). Matching is exact
            per path component, so ``word_acc`` does not match ``word_acc_ignore_case``.

    Returns:
        Canonical dataset name -> fraction, in the order of the keys in the run.

    Raises:
        ResultsError: If nothing matches; lists the metric and dataset names there are.
    """
    out = {}
    for key, value in run['metrics'].items():
        if _key_matches(key, metric):
            dataset, _ = split_metric_key(key)
            out[dataset] = value
    if not out:
        names, datasets = metric_names(run['metrics'])
        raise ResultsError(
            f'metric {metric!r} matches nothing in {run["source"]}; metric names there: '
            f'{", ".join(names)} (datasets: {", ".join(datasets)})')
    return out


def order_datasets(names: Iterable[str]) -> List[str]:
    """Standard column order: the six benchmarks, Union14M subsets, then the rest.

    Args:
        names: Dataset names (canonical); the rest keep their first-seen order.

    Returns:
        The ordered, de-duplicated list.
    """
    seen = list(dict.fromkeys(names))
    six = [n for n in SIX_BENCHMARKS if n in seen]
    u14m = [n for n in U14M_SUBSETS if n in seen]
    rest = [n for n in seen if n not in SIX_BENCHMARKS and n not in U14M_SUBSETS]
    return six + u14m + rest


def average_sets(datasets: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Which shown sets ``avg`` / ``weighted avg`` and ``U14M avg`` cover.

    Args:
        datasets: The dataset columns shown.

    Returns:
        ``(avg_sets, u14m_avg_sets)``; either may be empty (the column is then left out).
    """
    six = [d for d in datasets if d in SIX_BENCHMARKS]
    avg = six or [d for d in datasets if d not in U14M_SUBSETS]
    u14m = [d for d in datasets if d in U14M_AVG_SUBSETS]
    return avg, u14m


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


def published_rows() -> List[dict]:
    """The published numbers (DESIGN.md section 2; WAICS, %), a copy, missing = None.

    Returns:
        Rows keyed by :data:`PUBLISHED_COLUMNS`.
    """
    return [{c: r.get(c) for c in PUBLISHED_COLUMNS} for r in PUBLISHED_ROWS]


def _cell(value, decimals: int) -> str:
    if value is None:
        return '-'
    if _is_number(value):
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
    numeric = [all(row.get(c) is None or _is_number(row.get(c)) for row in rows)
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
