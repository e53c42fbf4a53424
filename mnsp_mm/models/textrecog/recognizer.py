"""The MAERec recogniser: MMOCR's encoder-decoder recogniser with layer ids for lr decay."""
from typing import Tuple

from mmocr.models.textrecog.recognizers import EncoderDecoderRecognizer

from ...registry import register_model


@register_model(scopes=('mmocr', ), aliases=('MAERec', ))
class TextMAERec(EncoderDecoderRecognizer):
    """TextViT backbone + :class:`TextMAERecDecoder` (no separate encoder).

    Registered as ``TextMAERec`` (``MAERec`` too, unless MMOCR owns that name, see
    :mod:`mnsp_mm.registry`).

    Adds ``get_layer_depth`` so mmpretrain's ``LearningRateDecayOptimWrapperConstructor``
    (layer-wise lr decay, the LMIM fine-tuning recipe) works on a recogniser: backbone
    parameters get their ViT depth, everything else (the decoder) the top one.
    """

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        return self.backbone.get_layer_depth(param_name, 'backbone.')
