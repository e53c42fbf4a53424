"""The benchmark sets and the averages over them: names, aliases, instance counts.

* ``avg``: plain mean over the six common benchmarks shown (IIIT5K, IC13, SVT, IC15, SVTP,
  CUTE80), or, when none of them is shown, over all shown sets that are not Union14M subsets.
  This is how the papers' "avg" is computed (MAERec-S: 570.6 / 6 = 95.1).
* ``weighted avg``: the same sets weighted by instance counts (defaults for the six
  benchmarks; other sets need ``counts``); the column is left out when a count is unknown.
* ``U14M avg``: plain mean over the seven Union14M-Benchmark subsets the Union14M paper
  averages (curve, multi-oriented, artistic, contextless, salient, multi-words, general);
  ``incomplete`` / ``incomplete-ori`` are shown but not averaged, as in the paper (MAERec-S:
  550.2 / 7 = 78.6).
"""
import re
from typing import Iterable, List, Sequence, Tuple

SIX_BENCHMARKS = ('IIIT5K', 'IC13', 'SVT', 'IC15', 'SVTP', 'CUTE80')


U14M_SUBSETS = ('artistic', 'multi-oriented', 'contextless', 'curve', 'incomplete',
                'incomplete-ori', 'multi-words', 'salient', 'general')


# The subsets behind the Union14M paper's "Avg" (incomplete ones are reported separately).
U14M_AVG_SUBSETS = ('artistic', 'multi-oriented', 'contextless', 'curve', 'multi-words',
                    'salient', 'general')


DEFAULT_COUNTS = {'IIIT5K': 3000, 'IC13': 1015, 'SVT': 647, 'IC15': 2077, 'SVTP': 645,
                  'CUTE80': 288}


AVG, WAVG, U14M_AVG = 'avg', 'weighted avg', 'U14M avg'

_ALIASES = {'iiit5k': 'IIIT5K', 'iiit5k_3000': 'IIIT5K', 'iiit': 'IIIT5K',
            'ic13': 'IC13', 'ic13_1015': 'IC13', 'svt': 'SVT', 'svt_647': 'SVT',
            'ic15': 'IC15', 'ic15_2077': 'IC15', 'svtp': 'SVTP', 'svtp_645': 'SVTP',
            'cute80': 'CUTE80', 'cute': 'CUTE80', 'cute_288': 'CUTE80'}


_U14M_PREFIX = re.compile(r'^(union14m(-benchmark)?|u14m)[-_/]', re.I)



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

