"""Linguistic alignment of [cls] tokens: MNSP's MLA and LMIM's two-view alignment.

LMIM pulls the masked view's [cls] to the guidance view's; MNSP's multi-scale linguistic
alignment (MLA) pulls every coarse scale's [cls] (and the guidance view's) to the
full-scale one. Both are the mean of the MSEs, with gradient through both sides (no
stop-gradient, as the official LMIM code).
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def cls_alignment_loss(anchor: Tensor, others: Sequence[Tensor]) -> Tensor:
    """Mean over ``others`` of ``mse(other, anchor)``.

    Args:
        anchor: (B, C) the [cls] the others are aligned with.
        others: (B, C) [cls] tokens, at least one.

    Returns:
        The scalar loss.
    """
    if not others:
        raise ValueError('cls_alignment_loss: no [cls] tokens to align with the anchor')
    return torch.stack([F.mse_loss(c, anchor) for c in others]).mean()
