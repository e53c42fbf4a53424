from .mae import TextMAE

__all__ = ['TextMAE']
