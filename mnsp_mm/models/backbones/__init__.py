from .text_vit import MaskedTokens, TextViT, random_masking, run_layer

__all__ = ['TextViT', 'MaskedTokens', 'random_masking', 'run_layer']
