"""Bootstrap intervals over test items, and paired intervals for differences.

A percentile bootstrap: resample the test items with replacement ``num`` times, recompute
the statistic, and take the ``alpha / 2`` and ``1 - alpha / 2`` quantiles. With ``strata``
(e.g. the test set of each crop), items are resampled within each stratum and the statistic
is the mean of the strata means, as in a table's "avg" column over test sets. A *paired*
interval resamples the same items for both methods, so what the two share (hard crops, easy
crops) cancels out of the difference.
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A statistic with its bootstrap interval (same units as the statistic)."""
    value: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies entirely above or below 0."""
        return self.low > 0 or self.high < 0

    def scaled(self, factor: float) -> 'Interval':
        return Interval(self.value * factor, self.low * factor, self.high * factor)


def _strata_index(num: int, strata: Optional[Sequence]) -> list:
    if strata is None:
        return [np.arange(num)]
    strata = np.asarray(strata)
    if len(strata) != num:
        raise ValueError(f'strata has {len(strata)} entries for {num} items')
    return [np.flatnonzero(strata == s) for s in dict.fromkeys(strata.tolist())]


def _resampled_means(values: np.ndarray, groups: list, num: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(num, k) bootstrap means of the mean of strata means of each column of values (n, k)."""
    out = np.zeros((num, values.shape[1]))
    for index in groups:
        draws = rng.integers(0, len(index), (num, len(index)))
        out += values[index][draws].mean(axis=1)
    return out / len(groups)


def _point(values: np.ndarray, groups: list) -> np.ndarray:
    return np.mean([values[index].mean(axis=0) for index in groups], axis=0)


def bootstrap_mean(values: Sequence[float], strata: Optional[Sequence] = None, num: int = 2000,
                   alpha: float = 0.05, seed: int = 0) -> Interval:
    """Mean of ``values`` (mean of strata means with ``strata``) with its interval.

    Args:
        values: (n,) per-item scores, e.g. 1.0 for a correctly read crop, else 0.0.
        strata: (n,) stratum of each item, or None for one stratum.
        num: bootstrap resamples.
        alpha: 1 - coverage of the interval (0.05: a 95% interval).
        seed: seed of the resampling.
    """
    values = np.asarray(values, np.float64).reshape(-1, 1)
    if not len(values):
        raise ValueError('bootstrap_mean: no values')
    groups = _strata_index(len(values), strata)
    means = _resampled_means(values, groups, num, np.random.default_rng(seed))[:, 0]
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Interval(float(_point(values, groups)[0]), float(low), float(high))


def paired_difference(a: Sequence[float], b: Sequence[float],
                      strata: Optional[Sequence] = None, num: int = 2000, alpha: float = 0.05,
                      seed: int = 0) -> Interval:
    """``mean(a) - mean(b)`` over the same items, with a paired bootstrap interval.

    Args:
        a: (n,) per-item scores of one method.
        b: (n,) per-item scores of the other, item for item the same test items.
        strata, num, alpha, seed: as in :func:`bootstrap_mean`.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f'paired_difference needs two equal-length 1-d score lists, '
                         f'got shapes {a.shape} and {b.shape}')
    return bootstrap_mean(a - b, strata, num, alpha, seed)


def bootstrap_spearman(x: Sequence[float], y: Sequence[float], num: int = 2000,
                       alpha: float = 0.05, seed: int = 0) -> Interval:
    """Spearman's rank correlation of paired ``(x, y)`` items, with a percentile bootstrap
    interval over the items (resamples in which either side is all ties are left out).

    Raises:
        ValueError: fewer than three pairs, or lengths that differ.
    """
    from scipy.stats import rankdata
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError(f'bootstrap_spearman needs two equal-length lists of 3+ values, '
                         f'got shapes {x.shape} and {y.shape}')
    draws = np.random.default_rng(seed).integers(0, len(x), (num, len(x)))
    draws = np.concatenate([np.arange(len(x))[None], draws])  # row 0: the items themselves
    rx, ry = (rankdata(v[draws], axis=1) for v in (x, y))  # ties: their mean rank
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    den = np.sqrt((rx * rx).sum(1) * (ry * ry).sum(1))
    rho = (rx * ry).sum(1) / np.where(den > 0, den, np.nan)  # NaN: one side all ties
    boot = rho[1:][np.isfinite(rho[1:])]
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2]) if len(boot) else (np.nan, ) * 2
    return Interval(float(rho[0]), float(low), float(high))
