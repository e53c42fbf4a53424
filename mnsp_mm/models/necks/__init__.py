from .lmim_decoder import DecoderBlock, GuidedDecoder
from .mae_decoder import TextMAEDecoder

__all__ = ['TextMAEDecoder', 'GuidedDecoder', 'DecoderBlock']
