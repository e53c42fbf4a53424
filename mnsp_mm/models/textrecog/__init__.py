from .maerec_decoder import MAERecDecoder
from .recognizer import MAERec

__all__ = ['MAERec', 'MAERecDecoder']
