"""Importing this module loads the vocabulary and scans the fonts (about 3 s together).

The render pool's fork server preloads it, so every worker it forks starts with both
instead of repeating the work.
"""
from .fonts import font_catalogue
from .text import vocabulary

vocabulary('train')
vocabulary('test')
font_catalogue()
