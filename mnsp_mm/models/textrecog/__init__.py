from .maerec_decoder import MAERecDecoder

__all__ = ['MAERecDecoder']
