from .mae_decoder import TextMAEDecoder

__all__ = ['TextMAEDecoder']
