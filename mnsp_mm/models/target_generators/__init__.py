from .teacher import FrozenTeacher, PixelTarget

__all__ = ['FrozenTeacher', 'PixelTarget']
