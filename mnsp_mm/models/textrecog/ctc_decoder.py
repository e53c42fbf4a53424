"""CTC on the columns of a ViT's token grid: a recognition head with no language model.

An attention decoder trained on few labels first learns which label sequences are likely
(a language model) and only then to read; CTC predicts every column independently and
cannot fall back on a prior over words. Written here because MMOCR's ``CRNNDecoder`` expects
a CNN feature map (N, C, 1, W), not ViT tokens.

Loss: ``CTC(log_softmax(W @ mean_rows(tokens)), label)`` with the dictionary's padding index
as the blank (MMOCR's ``CTCModuleLoss``); decoding: MMOCR's ``CTCPostProcessor`` (best path,
repeats merged, blanks dropped).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.decoders import BaseDecoder
from mmocr.structures import TextRecogDataSample
from torch import nn

from ...registry import register_model


@register_model(scopes=('mmocr', ))
class TokenCTCDecoder(BaseDecoder):
    """Column-wise classifier over a (h, w) token grid, trained with CTC.

    Args:
        in_channels: token width C of the backbone.
        grid: (h, w) token grid of the backbone; the last ``h * w`` tokens of the features
            are the grid (a leading [cls] token is ignored). Each of the ``w`` columns is one
            CTC time step, so labels need ``len(label) + repeats <= w``.
        dictionary: MMOCR dictionary config or instance; needs ``with_padding=True`` (the
            blank).
        module_loss, postprocessor: MMOCR's CTC defaults when None.
        max_seq_len: longest label (kept for the label-length checks; at most ``w``).
    """

    def __init__(self, in_channels: int, grid: Tuple[int, int],
                 dictionary: Union[Dict, Dictionary], module_loss: Optional[Dict] = None,
                 postprocessor: Optional[Dict] = None, max_seq_len: Optional[int] = None,
                 init_cfg: Optional[Dict] = None):
        h, w = grid
        if max_seq_len is not None and max_seq_len > w:
            raise ValueError(f'TokenCTCDecoder: max_seq_len={max_seq_len} > {w} columns of '
                             f'grid={tuple(grid)}; CTC needs a time step per character')
        super().__init__(dictionary=dictionary,
                         module_loss=module_loss or dict(type='CTCModuleLoss',
                                                         zero_infinity=True),
                         postprocessor=postprocessor or dict(type='CTCPostProcessor'),
                         max_seq_len=max_seq_len or w, init_cfg=init_cfg)
        if self.dictionary.padding_idx is None:
            raise ValueError('TokenCTCDecoder: the dictionary needs with_padding=True (the '
                             'CTC blank); set model.decoder.dictionary.with_padding=True')
        self.grid = (h, w)
        self.classifier = nn.Linear(in_channels, self.dictionary.num_classes)

    def forward_train(self, feat: torch.Tensor, out_enc: Optional[torch.Tensor] = None,
                      data_samples: Optional[Sequence[TextRecogDataSample]] = None
                      ) -> torch.Tensor:
        """Logits per column.

        Args:
            feat: (N, L, C) backbone tokens with ``L >= h * w``.

        Returns:
            (N, w, num_classes) logits.
        """
        h, w = self.grid
        if feat.dim() != 3 or feat.size(1) < h * w:
            raise ValueError(f'TokenCTCDecoder: features of shape {tuple(feat.shape)} hold '
                             f'no {h}x{w} token grid; set model.decoder.grid')
        columns = feat[:, -h * w:].reshape(feat.size(0), h, w, feat.size(2)).mean(dim=1)
        return self.classifier(columns)

    def forward_test(self, feat: torch.Tensor, out_enc: Optional[torch.Tensor] = None,
                     data_samples: Optional[Sequence[TextRecogDataSample]] = None
                     ) -> torch.Tensor:
        """(N, w, num_classes) character probabilities per column."""
        return self.forward_train(feat, out_enc, data_samples).softmax(dim=-1)
