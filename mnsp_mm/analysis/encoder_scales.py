"""Weight and activation scales of a TextViT encoder, and how peaked its attention is.

What changes when an initialisation is pretrained, in the units an optimiser feels:

* weights: the RMS of every weight matrix (``||W||_F / sqrt(numel)``), the mean |gain| of every
  LayerNorm / BatchNorm, and the stem's BatchNorm running statistics;
* activations on real crops: the RMS of the residual stream after each block, of what each
  block writes into it, and the stream's within-crop share (the RMS of the patch tokens
  minus their crop mean, over the RMS of the patch tokens: 0 when every token of a crop is
  the same vector, so nothing tells one column from another) and its content share (the
  same, after also taking out each position's mean over the crops: what varies within a
  crop *and* depends on what the crop shows, not only on where the token sits); the share
  of stem ReLU channels that never fire on the batch (dead units), and the entropy of each
  block's attention rows divided by ``log N`` (1 = uniform over the N tokens, 0 = one
  token).

AdamW moves every weight by about ``lr`` per step whatever its scale, so a weight whose RMS
is k times another's changes k times more slowly, relative to itself, under the same
recipe; a dead ReLU channel passes no gradient at all.
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .attention_maps import list_samples, load_sample
from .model_input import calibrate_batchnorm, input_spec, load_backbone, preprocess


def weight_scales(model: nn.Module) -> Dict[str, float]:
    """RMS of each weight matrix/kernel and mean |gain| of each norm, by parameter name."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.LayerNorm, nn.BatchNorm2d)) and module.weight is not None:
            out[f'{name}.gain'] = float(module.weight.detach().abs().mean())
            if isinstance(module, nn.BatchNorm2d):
                out[f'{name}.running_var'] = float(module.running_var.mean())
        elif isinstance(module, (nn.Linear, nn.Conv2d)):
            w = module.weight.detach()
            out[f'{name}.rms'] = float(w.pow(2).mean().sqrt())
    return out


def activation_stats(model: nn.Module, images: torch.Tensor) -> Dict[str, list]:
    """Residual-stream RMS per block, dead stem channels and attention entropy per block.

    Args:
        model: a :class:`~mnsp_mm.models.TextViT` in eval mode.
        images: (B, 3, H, W) normalised crops.

    Returns:
        dict with ``embed_rms`` (the tokens entering block 0), ``stream_rms`` (one per block,
        then after the final norm), ``write_rms`` (what each block adds to the stream),
        ``within_crop`` (the within-crop share of the patch tokens entering block 0, then
        after each block, then after the final norm), ``content`` (the content share at the
        same points: :func:`content_share`), ``attention_entropy`` (one per block,
        in [0, 1]) and ``dead_stem_channels`` (one per stem ReLU: the share of channels with
        no positive output on the batch; empty for the linear patch embedding).
    """
    from ..models.backbones.text_vit import run_layer
    dead, hooks = [], []
    for module in model.patch_embed.modules():
        if isinstance(module, nn.ReLU):
            hooks.append(module.register_forward_hook(
                lambda m, i, o: dead.append(float((o.amax(dim=(0, 2, 3)) <= 0).float().mean()))))
    with torch.no_grad():
        tokens, _ = model.embed(images)
        x = model.pre_norm(torch.cat([model.cls_tokens(len(images)), tokens], 1))
        embed_rms, within, content = _rms(x), [within_crop_share(x)], [content_share(x)]
        rms, writes, entropy = [], [], []
        for layer in model.layers:
            before = x
            x, weights = run_layer(layer, x, need_weights=True)
            rms.append(_rms(x))
            writes.append(_rms(x - before))
            within.append(within_crop_share(x))
            content.append(content_share(x))
            p = weights.clamp_min(1e-12)
            entropy.append(float((-(p * p.log()).sum(-1)).mean() / np.log(p.shape[-1])))
        if model.final_norm:
            out = model.ln1(x)
            rms.append(_rms(out))
            within.append(within_crop_share(out))
            content.append(content_share(out))
    for h in hooks:
        h.remove()
    return dict(embed_rms=embed_rms, stream_rms=rms, write_rms=writes, within_crop=within,
                content=content, attention_entropy=entropy, dead_stem_channels=dead)


def _rms(x: torch.Tensor) -> float:
    return float(x.pow(2).mean().sqrt())


def within_crop_share(x: torch.Tensor) -> float:
    """RMS of the patch tokens minus their crop mean, over the RMS of the patch tokens.

    Args:
        x: (B, 1 + N, C) a residual stream, [cls] first (left out).

    Returns:
        A share in [0, 1]: 0 when each crop's tokens are one vector, 1 when they average to 0.
    """
    patches = x[:, 1:]
    return _rms(patches - patches.mean(1, keepdim=True)) / max(_rms(patches), 1e-12)


def encoder_scales(cfg, checkpoint: Optional[str], ann_file, num: int = 64,
                   seed: int = 0) -> Dict:
    """:func:`weight_scales` and :func:`activation_stats` of one encoder on ``num`` crops.

    Args:
        cfg: an mmengine ``Config`` with ``model.backbone``.
        checkpoint: the encoder's checkpoint, or None for the random initialisation (``seed``).
        ann_file: a textrecog json (or a folder) whose first ``num`` crops are used.
        num: crops.
        seed: torch seed of the random initialisation.

    Returns:
        dict with ``weights`` (name -> value) and the :func:`activation_stats` lists.
    """
    if checkpoint is None:
        torch.manual_seed(seed)
    model = load_backbone(cfg, checkpoint)
    samples, _ = list_samples(ann_file, num)
    size = tuple(g * p for g, p in zip(model.patch_resolution, model.patch_size))
    images = preprocess([load_sample(s, size)[0] for s in samples], input_spec(cfg))
    if checkpoint is None:  # as fine-tuning would normalise (see calibrate_batchnorm)
        calibrate_batchnorm(model, [images])
    return dict(weights=weight_scales(model), **activation_stats(model, images))


def summarise(stats: Dict, groups: Sequence[str] = ('patch_embed', 'attn.qkv', 'attn.proj',
                                                    'ffn', 'ln')) -> Dict[str, float]:
    """Mean weight RMS / gain per group of parameter names (a table row)."""
    out = {}
    for g in groups:
        vals = [v for k, v in stats['weights'].items() if g in k and k.endswith(
            '.gain' if g == 'ln' else '.rms')]
        out[g] = float(np.mean(vals)) if vals else float('nan')
    return out


def content_share(x: torch.Tensor) -> float:
    """RMS of what varies within a crop beyond position, over the RMS of the patch tokens.

    The patch tokens minus their crop mean, minus each position's mean of that over the
    batch: a token that only says where it sits (a position code) has none.

    Args:
        x: (B, 1 + N, C) a residual stream, [cls] first (left out); B > 1 crops.

    Returns:
        A share in [0, 1], at most :func:`within_crop_share`.
    """
    patches = x[:, 1:]
    within = patches - patches.mean(1, keepdim=True)
    return _rms(within - within.mean(0, keepdim=True)) / max(_rms(patches), 1e-12)
