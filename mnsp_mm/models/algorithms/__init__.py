from .lmim import LMIM, split_views
from .mae import TextMAE
from .mnsp import MNSP, block_causal_mask

__all__ = ['TextMAE', 'LMIM', 'MNSP', 'split_views', 'block_causal_mask']
