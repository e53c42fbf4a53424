"""MAERec's recognition decoder: MMOCR's NRTR Transformer decoder attending to ViT tokens."""
from typing import Optional, Sequence

from mmocr.models.textrecog.decoders import NRTRDecoder
from mmocr.structures import TextRecogDataSample
from torch import Tensor

from ...registry import register_model


@register_model(scopes=('mmocr', ))
class MAERecDecoder(NRTRDecoder):
    """NRTR decoder fed with the backbone's tokens (MAERec has no separate encoder).

    MMOCR's ``NRTRDecoder`` already is MAERec's decoder (same layers and parameter names:
    ``trg_word_emb``, ``layer_stack.N``, ``layer_norm``, ``classifier``); it only reads the
    encoder output ``out_enc``. With no encoder in the recognizer, ``out_enc`` is None and
    the backbone features ``feat`` (B, 1 + h*w, d_model) are attended instead.

    Args: as :class:`mmocr.models.textrecog.decoders.NRTRDecoder`. The MAERec-S setting is
        ``n_layers=6, d_embedding=384, d_model=384, n_head=8, d_k=48, d_v=48, d_inner=1536``.
    """

    def forward_train(self, feat: Optional[Tensor] = None, out_enc: Optional[Tensor] = None,
                      data_samples: Sequence[TextRecogDataSample] = None) -> Tensor:
        """Teacher-forced logits (B, T, num_classes)."""
        return super().forward_train(feat, feat if out_enc is None else out_enc, data_samples)

    def forward_test(self, feat: Optional[Tensor] = None, out_enc: Optional[Tensor] = None,
                     data_samples: Sequence[TextRecogDataSample] = None) -> Tensor:
        """Greedy decoding; character probabilities (B, max_seq_len, num_classes)."""
        return super().forward_test(feat, feat if out_enc is None else out_enc, data_samples)
