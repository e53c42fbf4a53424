from .pos_embed import grid_of, sincos_1d, sincos_2d

__all__ = ['grid_of', 'sincos_1d', 'sincos_2d']
