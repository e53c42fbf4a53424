from .conv_stem import ConvStem
from .text_vit import MaskedTokens, TextViT, random_masking, run_layer

__all__ = ['ConvStem', 'TextViT', 'MaskedTokens', 'random_masking', 'run_layer']
