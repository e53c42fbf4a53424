"""MAE pixel-reconstruction head for non-square images and patches."""
from typing import Sequence, Union

import torch
from mmpretrain.models.heads import MAEPretrainHead
from torch import Tensor

from ...registry import register_model


def patchify(imgs: Tensor, patch_size: Sequence[int]) -> Tensor:
    """(B, C, H, W) -> (B, h*w, ph*pw*C), row-major tokens, pixels (ph, pw, C) inside a token."""
    (ph, pw), (B, C, H, W) = patch_size, imgs.shape
    if H % ph or W % pw:
        raise ValueError(f'image {H}x{W} is not divisible by the patch size {ph}x{pw}')
    x = imgs.reshape(B, C, H // ph, ph, W // pw, pw)
    return torch.einsum('nchpwq->nhwpqc', x).reshape(B, (H // ph) * (W // pw), ph * pw * C)


def unpatchify(x: Tensor, grid: Sequence[int], patch_size: Sequence[int],
               channels: int = 3) -> Tensor:
    """Inverse of :func:`patchify`: (B, h*w, ph*pw*C) -> (B, C, h*ph, w*pw)."""
    (h, w), (ph, pw) = grid, patch_size
    x = x.reshape(x.shape[0], h, w, ph, pw, channels)
    return torch.einsum('nhwpqc->nchpwq', x).reshape(x.shape[0], channels, h * ph, w * pw)


@register_model()
class TextMAEHead(MAEPretrainHead):
    """mmpretrain's MAE head with a non-square ``patchify`` (its own asserts H == W).

    Args:
        loss: loss config, e.g. ``dict(type='PixelReconstructionLoss', criterion='L2')``.
        norm_pix: normalise each target patch by its own mean and std (MAE ``norm_pix_loss``).
        patch_size: int or ``(ph, pw)``.
        in_channels: image channels.

    Shapes:
        loss(pred (B, L, ph*pw*C), target images (B, C, H, W), mask (B, L)) -> scalar.
    """

    def __init__(self, loss: dict, norm_pix: bool = True,
                 patch_size: Union[int, Sequence[int]] = 4, in_channels: int = 3):
        super().__init__(loss=loss, norm_pix=norm_pix, patch_size=patch_size,
                         in_channels=in_channels)
        self.patch_hw = (patch_size, patch_size) if isinstance(patch_size, int) \
            else tuple(patch_size)

    def patchify(self, imgs: Tensor) -> Tensor:
        return patchify(imgs, self.patch_hw)

    def unpatchify(self, x: Tensor, grid: Sequence[int] = None) -> Tensor:
        if grid is None:
            raise ValueError('unpatchify of a non-square image needs its token grid (h, w)')
        return unpatchify(x, grid, self.patch_hw, self.in_channels)
