"""The MAERec recogniser: MMOCR's encoder-decoder recogniser with layer ids for lr decay."""
from typing import Tuple

from mmocr.models.textrecog.recognizers import EncoderDecoderRecognizer

from ...registry import register_model


@register_model(scopes=('mmocr', ))
class MAERec(EncoderDecoderRecognizer):
    """TextViT backbone + :class:`MAERecDecoder` (no separate encoder).

    Adds ``get_layer_depth`` so mmpretrain's ``LearningRateDecayOptimWrapperConstructor``
    (layer-wise lr decay, the LMIM fine-tuning recipe) works on a recogniser: backbone
    parameters get their ViT depth, everything else (the decoder) the top one.
    """

    def get_layer_depth(self, param_name: str) -> Tuple[int, int]:
        return self.backbone.get_layer_depth(param_name, 'backbone.')
