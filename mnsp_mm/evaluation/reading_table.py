"""The reading table: out-of-vocabulary and in-vocabulary word accuracy per test set, with
bootstrap intervals, paired differences to a reference row and a guessing baseline.

Input is one ``{set: rows}`` mapping per method (or a list of them, one per run: seeds), the
rows of :class:`TextPredictionDump` (or of any reader giving ``gt`` / ``pred`` per crop, e.g.
Tesseract), in the same crop order for every method and run, so that differences can be paired
crop by crop. A method with several runs scores each crop by the mean over its runs (the
expected score of a run), so its interval and its paired differences are over crops, and
:meth:`ReadingTable.run_means` gives the spread over runs.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from .bootstrap import Interval, bootstrap_mean, paired_difference
from .reading import guess_baseline, in_vocabulary, one_minus_ned, word_correct

Rows = Mapping[str, Sequence[dict]]  # test set -> per-crop prediction rows


def _cell(interval: Optional[Interval], with_ci: bool = True) -> str:
    if interval is None:
        return '-'
    value = f'{100 * interval.value:.1f}'
    return f'{value} [{100 * interval.low:.1f}, {100 * interval.high:.1f}]' if with_ci else value


def _check_same_crops(methods: Mapping[str, List[Rows]], sets: Sequence[str]) -> None:
    ref_name, (ref, *_) = next(iter(methods.items()))
    for name, runs in methods.items():
        for k, rows in enumerate(runs):
            for s in sets:
                if [r['gt'] for r in rows[s]] != [r['gt'] for r in ref[s]]:
                    raise ValueError(f'{name!r} (run {k}) and {ref_name!r} have different test '
                                     f'crops in set {s!r}: paired comparisons need the same '
                                     'crops in order')


class ReadingTable:
    """Per-crop scores of several methods on the same test sets.

    Args:
        methods: method name -> ``{set: rows}``, or a list of them (one per run); every run
            has every set, same crops.
        train_labels: the training labels (decide in- vs out-of-vocabulary).
        sets: test sets in column order (default: the first method's).
        num: bootstrap resamples; seed: their seed.
    """

    def __init__(self, methods: Mapping[str, Union[Rows, Sequence[Rows]]],
                 train_labels: Sequence[str], sets: Optional[Sequence[str]] = None,
                 num: int = 2000, seed: int = 0):
        if not methods:
            raise ValueError('ReadingTable: no methods')
        runs = {m: list(v) if isinstance(v, (list, tuple)) else [v] for m, v in methods.items()}
        empty = [m for m, v in runs.items() if not v]
        if empty:
            raise ValueError(f'ReadingTable: no runs for {empty}')
        first = next(iter(runs.values()))[0]
        self.sets = list(sets or first)
        _check_same_crops(runs, self.sets)
        self.iv = {s: in_vocabulary(first[s], train_labels) for s in self.sets}
        self.run_word = {m: [{s: word_correct(rows[s]) for s in self.sets} for rows in v]
                         for m, v in runs.items()}
        self.word = {m: {s: np.mean([r[s] for r in v], axis=0) for s in self.sets}
                     for m, v in self.run_word.items()}
        self.ned = {m: {s: np.mean([one_minus_ned(rows[s]) for rows in v], axis=0)
                        for s in self.sets} for m, v in runs.items()}
        guess = {s: guess_baseline(first[s], train_labels, seed=seed) for s in self.sets}
        self.guess = {'word': {s: g['word'] for s, g in guess.items()},
                      'ned': {s: g['ned'] for s, g in guess.items()}}
        self.num, self.seed = num, seed

    def _keep(self, set_name: str, part: str) -> np.ndarray:
        """(n,) mask of the crops of ``part`` (``oov``, ``iv`` or ``all``) in one set."""
        iv = self.iv[set_name]
        return {'all': np.ones_like(iv), 'iv': iv, 'oov': ~iv}[part]

    def _pick(self, scores: Dict[str, np.ndarray], part: str):
        """(values, strata) of the crops of ``part`` in all sets."""
        values, strata = [], []
        for s in self.sets:
            keep = self._keep(s, part)
            values.append(scores[s][keep])
            strata += [s] * int(keep.sum())
        return np.concatenate(values), strata

    def interval(self, scores: Dict[str, np.ndarray], part: str,
                 set_name: Optional[str] = None,
                 skip_empty: bool = False) -> Optional[Interval]:
        """Mean of a part of one set (or the mean of the sets' means) with its interval.

        A set without crops of ``part`` leaves the average empty (None), or with
        ``skip_empty`` the average is over the sets that have some (:meth:`sets_with`)."""
        if set_name is not None:
            values, strata = scores[set_name][self._keep(set_name, part)], None
        else:
            values, strata = self._pick(scores, part)
        if set_name is None and not skip_empty and len(set(strata)) < len(self.sets):
            return None  # a set without crops of this part: no average over all sets
        if not len(values):
            return None
        return bootstrap_mean(values, strata, self.num, seed=self.seed)

    def difference(self, a: str, b: str, part: str = 'oov', metric: str = 'word',
                   set_name: Optional[str] = None) -> Interval:
        """Paired ``a - b`` on the mean over sets of ``part`` (or on one set's crops of
        ``part``), with its interval."""
        scores = self.word if metric == 'word' else self.ned
        if set_name is not None:
            keep = self._keep(set_name, part)
            return paired_difference(scores[a][set_name][keep], scores[b][set_name][keep],
                                     None, self.num, seed=self.seed)
        va, strata = self._pick(scores[a], part)
        vb, _ = self._pick(scores[b], part)
        return paired_difference(va, vb, strata, self.num, seed=self.seed)

    def sets_with(self, part: str) -> List[str]:
        """The sets that have crops of ``part``."""
        return [s for s in self.sets if self._keep(s, part).any()]

    def run_means(self, method: str, part: str = 'oov') -> List[float]:
        """Each run's mean over sets of the WAICS of ``part`` (the spread over seeds)."""
        means = []
        for run in self.run_word[method]:
            values, strata = self._pick(run, part)
            strata = np.asarray(strata)
            means.append(float(np.mean([values[strata == s].mean() for s in self.sets
                                        if (strata == s).any()])))
        return means

    def counts(self) -> Dict[str, Dict[str, int]]:
        """``{set: {'oov': n, 'iv': n}}``."""
        return {s: {'oov': int((~iv).sum()), 'iv': int(iv.sum())} for s, iv in self.iv.items()}

    def markdown(self, metric: str = 'word', part: str = 'oov',
                 extra_rows: Sequence[str] = ()) -> List[str]:
        """A table: a row per method (then ``random training label``), a column per set
        and the average; cells are % with a 95% interval on the average column."""
        table = self.word if metric == 'word' else self.ned
        guess = self.guess[metric]
        head = ['| method | ' + ' | '.join(self.sets) + ' | avg [95% CI] |',
                '|---|' + '---:|' * (len(self.sets) + 1)]
        body = []
        rows = [(m, table[m]) for m in table] + [('random training label', guess)]
        for name, scores in rows:
            cells = [_cell(self.interval(scores, part, s), False) for s in self.sets]
            body.append(f'| {name} | ' + ' | '.join(cells) + ' | '
                        + _cell(self.interval(scores, part)) + ' |')
        return head + body + list(extra_rows)

    def difference_lines(self, reference: str, part: str = 'oov',
                         skip: Sequence[str] = ()) -> List[str]:
        """One line per other method (but ``skip``): the paired difference to ``reference``
        and its verdict."""
        lines = []
        for name in self.word:
            if name == reference or name in skip:
                continue
            d = self.difference(name, reference, part)
            verdict = ('a measurable difference' if d.excludes_zero
                       else 'no measurable difference')
            lines.append(f'- {name} - {reference}: {100 * d.value:+.1f} points '
                         f'[{100 * d.low:+.1f}, {100 * d.high:+.1f}] ({verdict}).')
        return lines
