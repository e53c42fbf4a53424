"""Where does the encoder look? [cls]-token attention maps and how much of it lands on text.

The [cls] query of a :class:`~mnsp_mm.models.TextViT` layer attends to every patch token; its
weights, averaged over heads and renormalised over the patches, form a (h, w) map over the
token grid. Given glyph masks (the synthetic renderer writes them), the *text-attention
fraction* is the share of that mass on glyph pixels; the *chance level* is the fraction a
uniform map would get (the mean glyph coverage of the patches), so a map that ignores the
text scores the chance level, not 0.

Example::

    from mnsp_mm.analysis import (cls_attention, input_spec, load_backbone, overlay,
                                  preprocess, text_attention_fraction)
    cfg = load_config('configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py')
    model = load_backbone(cfg, 'work_dirs/demo/iter_60.pth')
    x = preprocess([rgb_32x128], input_spec(cfg))               # (1, 3, 32, 128)
    maps = cls_attention(model, x, scales=((16, 64), (32, 128)))  # {(16, 64): (1, 4, 16), ...}
    frac, chance = text_attention_fraction(maps[(32, 128)], masks, return_chance=True)
    heat = overlay(rgb_32x128, maps[(32, 128)][0])               # (32, 128, 3) uint8

The model and its input come from :mod:`.model_input`; this module needs only torch, numpy
and matplotlib.
"""
from typing import Dict, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.utils.pos_embed import grid_of

Scale = Tuple[int, int]

def _resize(images: Tensor, size: Scale) -> Tensor:
    """Resize (B, C, H, W) to ``size``: area averaging when shrinking, bilinear otherwise."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    if size[0] <= images.shape[-2] and size[1] <= images.shape[-1]:
        return F.interpolate(images, size=size, mode='area')
    return F.interpolate(images, size=size, mode='bilinear', align_corners=False)


@torch.no_grad()
def cls_attention(model: nn.Module,
                  images: Tensor,
                  scales: Sequence[Scale] = ((32, 128), ),
                  layer: int = -1) -> Dict[Scale, Tensor]:
    """Attention of the [cls] query to the patch tokens, per input scale.

    For each scale the images are resized (area averaging when shrinking, bilinear when
    enlarging), encoded with ``model.encode_image(..., need_weights=True)`` and the row of
    the [cls] query in layer ``layer`` is taken, averaged over heads and renormalised to sum
    to 1 over the patch tokens (the weight the [cls] token puts on itself is dropped).
    The model runs in eval mode (its mode is restored afterwards), without gradients.

    Args:
        model: a :class:`~mnsp_mm.models.TextViT` (anything with ``encode_image`` and
            ``patch_size``).
        images: (B, 3, H, W) images already normalised as the model expects.
        scales: ``(H_s, W_s)`` input sizes, each divisible by the patch size.
        layer: transformer layer index, Python-style (``-1`` = last).

    Returns:
        ``{(H_s, W_s): (B, h_s, w_s) float tensor}`` with ``h_s = H_s // ph`` and
        ``w_s = W_s // pw``; every map sums to 1.

    Raises:
        ValueError: bad image shape, a scale not divisible by the patch size, or a layer
            index out of range.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f'images must be (B, 3, H, W), got {tuple(images.shape)}')
    scales = [(int(s[0]), int(s[1])) for s in scales]
    grids = {s: grid_of(s, model.patch_size) for s in scales}  # checks divisibility
    was_training = model.training
    model.eval()
    try:
        out = {}
        for size in scales:
            x = _resize(images.float(), size)
            _, weights = model.encode_image(x, need_weights=True)
            if not -len(weights) <= layer < len(weights):
                raise ValueError(f'layer {layer} out of range for a model with '
                                 f'{len(weights)} layers')
            cls_row = weights[layer][:, :, 0, 1:].mean(dim=1)  # (B, h*w)
            cls_row = cls_row / cls_row.sum(dim=1, keepdim=True).clamp_min(1e-12)
            out[size] = cls_row.reshape(x.shape[0], *grids[size])
        return out
    finally:
        model.train(was_training)


def text_fraction_per_patch(glyph_masks: Tensor, grid: Scale) -> Tensor:
    """Fraction of glyph pixels in every patch: the masks area-downsampled to the token grid.

    Args:
        glyph_masks: (B, H, W) glyph masks in [0, 1] (1 = glyph pixel; fractional coverage
            is fine). Bool and integer 0/1 tensors are accepted.
        grid: ``(h, w)`` token grid.

    Returns:
        (B, h, w) float tensor in [0, 1].
    """
    if glyph_masks.dim() != 3:
        raise ValueError(f'glyph_masks must be (B, H, W), got {tuple(glyph_masks.shape)}')
    masks = glyph_masks.float()
    if masks.numel() and (masks.min() < 0 or masks.max() > 1):
        raise ValueError('glyph_masks must lie in [0, 1] (divide 0/255 masks by 255), got '
                         f'values in [{masks.min().item():g}, {masks.max().item():g}]')
    return F.adaptive_avg_pool2d(masks[:, None], tuple(grid))[:, 0]


def text_attention_fraction(attn: Tensor, glyph_masks: Tensor,
                            return_chance: bool = False
                            ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """Share of the attention mass that falls on text.

    Each mask is area-downsampled to the token grid of ``attn`` (``text_frac``: fraction of
    glyph pixels per patch) and the fraction is ``sum(attn * text_frac) / sum(attn)``. The
    chance level is the same quantity for a uniform map, i.e. ``mean(text_frac)``: a map
    that ignores the text scores the chance level on average, one on glyphs only scores 1.

    Args:
        attn: (B, h, w) non-negative attention maps (need not sum to 1).
        glyph_masks: (B, H, W) masks in [0, 1], 1 on glyph pixels, at the image resolution
            (any H, W; usually a multiple of the grid).
        return_chance: also return the chance level.

    Returns:
        (B,) fractions in [0, 1]; with ``return_chance`` a tuple ``(fraction (B,),
        chance (B,))``.
    """
    if attn.dim() != 3:
        raise ValueError(f'attn must be (B, h, w), got {tuple(attn.shape)}')
    if glyph_masks.dim() != 3 or glyph_masks.shape[0] != attn.shape[0]:
        raise ValueError(f'glyph_masks must be (B, H, W) with B = {attn.shape[0]}, got '
                         f'{tuple(glyph_masks.shape)}')
    attn = attn.float()
    if (attn < 0).any():
        raise ValueError('attention maps must be non-negative')
    text_frac = text_fraction_per_patch(glyph_masks.to(attn.device), attn.shape[-2:])
    mass = attn.sum(dim=(1, 2)).clamp_min(1e-12)
    fraction = (attn * text_frac).sum(dim=(1, 2)) / mass
    if return_chance:
        return fraction, text_frac.mean(dim=(1, 2))
    return fraction


def chance_level(glyph_masks: Tensor, grid: Scale) -> Tensor:
    """(B,) text-attention fraction of a uniform map on ``grid`` (mean glyph coverage)."""
    return text_fraction_per_patch(glyph_masks, grid).mean(dim=(1, 2))


def overlay(image_rgb: np.ndarray, attn: Union[Tensor, np.ndarray], alpha: float = 0.5,
            cmap: str = 'jet', interpolation: str = 'nearest') -> np.ndarray:
    """Blend an attention heatmap over an image.

    The map is scaled by its maximum to [0, 1], upsampled to the image size (``nearest``
    paints every patch flat, so the token grid stays visible; ``bilinear`` smooths),
    coloured with a matplotlib colormap and alpha-blended.

    Args:
        image_rgb: (H, W, 3) uint8 RGB image.
        attn: (h, w) non-negative map (tensor or array).
        alpha: heatmap weight in [0, 1].
        cmap: matplotlib colormap name.
        interpolation: ``'nearest'`` or ``'bilinear'``.

    Returns:
        (H, W, 3) uint8 RGB image.
    """
    import matplotlib  # colormaps only: no pyplot, no backend needed

    image_rgb = np.asarray(image_rgb)
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f'image_rgb must be (H, W, 3), got {image_rgb.shape}')
    if interpolation not in ('nearest', 'bilinear'):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    a = torch.as_tensor(np.asarray(attn.detach().cpu() if isinstance(attn, Tensor) else attn),
                        dtype=torch.float32)
    if a.dim() != 2:
        raise ValueError(f'attn must be (h, w), got {tuple(a.shape)}')
    a = a / a.max().clamp_min(1e-12)
    H, W = image_rgb.shape[:2]
    kwargs = {} if interpolation == 'nearest' else dict(align_corners=False)
    a = F.interpolate(a[None, None], size=(H, W), mode=interpolation, **kwargs)[0, 0]
    heat = matplotlib.colormaps[cmap](a.clamp(0, 1).numpy())[..., :3] * 255.
    out = (1. - alpha) * image_rgb.astype(np.float32) + alpha * heat
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
