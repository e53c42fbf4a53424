"""Convolutional stem: the ViT patch embedding as a small CNN (3x3 convs, BN, max-pooling).

A convolutional stem instead of the linear patchify projection makes a ViT much easier to
optimise (Xiao et al., "Early Convolutions Help Transformers See Better", NeurIPS 2021). The
demo needs it: its tiny ViT + attention decoder, trained from scratch on a few thousand crops,
stays at the language-model plateau (chance on random digits) for thousands of steps with a
linear patch embedding, and reads within a few hundred with this stem (README, "The demo").

Written here because mmpretrain's stems (``PatchEmbed``, ResNet stems) either patchify
linearly or downsample by a fixed 4x, not to an arbitrary (ph, pw) patch size.
"""
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn


class ConvStem(BaseModule):
    """Image -> patch tokens with a small CNN; a drop-in for mmpretrain's ``PatchEmbed``.

    A patch size ``(ph, pw)`` (powers of two) takes ``n = log2(max(ph, pw))`` stages of
    3x3 conv + norm + ReLU + 2x2 max-pool (1-wide on a side that has reached its patch
    size), widths doubling up to ``embed_dims``; then a 3x3 conv + norm + ReLU and a 1x1
    ``projection`` (no norm) to ``embed_dims``. A token's receptive field is wider than its
    patch: in masked pretraining a kept token has seen a few pixels of the removed patches
    next to it (the stem always runs on the whole image, so its BN statistics are those of
    whole images, in pretraining, in a frozen teacher and in fine-tuning).

    Args:
        embed_dims: token width C.
        patch_size: ``(ph, pw)``, each a power of two >= 2.
        in_channels: image channels.
        channels_last: run the convolutions on NHWC tensors (a speed switch, same function up
            to float rounding): oneDNN's NCHW kernels for these few-channel convolutions
            and their max-pools are slower on CPU (``make bench``, docs/performance.md).

    Shapes:
        forward: (B, in_channels, H, W) -> ``(tokens (B, H/ph * W/pw, C), (H/ph, W/pw))``.
    """

    def __init__(self, embed_dims: int, patch_size: Sequence[int], in_channels: int = 3,
                 channels_last: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        ph, pw = patch_size
        if min(ph, pw) < 2 or ph & (ph - 1) or pw & (pw - 1):
            raise ValueError(f'the conv stem needs power-of-two patch sizes >= 2, got {ph}x{pw}')
        steps = max(ph, pw).bit_length() - 1
        layers, c_in = [], in_channels
        for i in range(steps):
            c_out = max(16, embed_dims // 2**(steps - 1 - i))
            layers += self._conv(c_in, c_out)
            layers.append(nn.MaxPool2d((2 if ph >> i > 1 else 1, 2 if pw >> i > 1 else 1)))
            c_in = c_out
        self.convs = nn.Sequential(*layers, *self._conv(c_in, embed_dims))
        self.projection = nn.Conv2d(embed_dims, embed_dims, 1)
        self.channels_last = channels_last

    @staticmethod
    def _conv(c_in: int, c_out: int) -> list:
        # BN, not a per-position LayerNorm (LN2d): with LN2d the demo's recogniser was still
        # at chance on fixed-length digits after 400 steps, with BN its loss fell to 0.6
        return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True)]

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.projection(self.convs(x))
        return x.flatten(2).transpose(1, 2), (x.shape[2], x.shape[3])
