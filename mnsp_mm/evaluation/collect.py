"""Collect text-recognition metrics of runs from their files (no torch needed).

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

"""
import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from .benchmarks import canonical_dataset

PathLike = Union[str, Path]

DEFAULT_METRIC = 'word_acc_ignore_case_symbol'


SINGLE_SET = 'all'  # column name for metrics of a plain (single-dataset) Evaluator


# Keys of mmengine train/val log lines that are never metrics.
_LOG_KEYS = {'step', 'epoch', 'iter', 'lr', 'base_lr', 'time', 'data_time', 'memory',
             'grad_norm', 'loss'}


_KNOWN_METRIC_NAMES = {'word_acc', 'word_acc_ignore_case', 'word_acc_ignore_case_symbol',
                       'char_recall', 'char_precision', '1-N.E.D'}


_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')



class ResultsError(ValueError):
    """A run without metrics, an unknown metric name, or a bad option (message says which)."""



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



def is_number(value) -> bool:
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
    return {k: float(v) for k, v in record.items() if is_metric_key(k) and is_number(v)}



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
            k: float(v) for k, v in rec['metrics'].items() if is_number(v)}
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

