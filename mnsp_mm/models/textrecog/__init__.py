from .ctc_decoder import TokenCTCDecoder
from .maerec_decoder import TextMAERecDecoder
from .recognizer import TextMAERec

# the names before MMOCR dev-1.x's classes of the same names made us rename ours
MAERecDecoder, MAERec = TextMAERecDecoder, TextMAERec

__all__ = ['TextMAERec', 'TextMAERecDecoder', 'MAERec', 'MAERecDecoder', 'TokenCTCDecoder']
