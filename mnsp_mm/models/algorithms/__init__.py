from .lmim import LMIM, split_views
from .mae import TextMAE

__all__ = ['TextMAE', 'LMIM', 'split_views']
