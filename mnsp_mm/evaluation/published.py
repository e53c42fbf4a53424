"""The published numbers printed beside ours, in a table of their own (never mixed in)."""
from typing import List

from .benchmarks import AVG, SIX_BENCHMARKS, U14M_AVG
from .collect import DEFAULT_METRIC

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



def published_rows() -> List[dict]:
    """The published numbers (DESIGN.md section 2; WAICS, %), a copy, missing = None.

    Returns:
        Rows keyed by :data:`PUBLISHED_COLUMNS`.
    """
    return [{c: r.get(c) for c in PUBLISHED_COLUMNS} for r in PUBLISHED_ROWS]

