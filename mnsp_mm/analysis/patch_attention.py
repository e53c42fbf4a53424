"""Where the patch tokens look: the glyph share and the distance of their attention, per layer.

MNSP's abstract says that naive scale prediction "tends to produce spatially diffuse
attention, directing the model toward background regions", and that MIM's local
constraints pull it back to the text. The [cls] query (:mod:`.attention`) cannot test that
here: no pretraining loss of MAE, LMIM or MNSP reads the [cls] token, so its row is whatever
the initialisation left. What the losses do train are the patch queries, so this module
measures their rows. For every layer, head ``k`` and patch query ``i`` the row ``a_kij``
over the patch tokens ``j`` (the [cls] column dropped, the row renormalised) gives:

* the **glyph share** ``g = mean_{k,i} sum_j a_kij t_j``, with ``t_j`` the glyph coverage of
  patch ``j`` (the mask area-averaged to the token grid). A uniform row scores the crop's
  chance level ``c = mean_j t_j``; the **glyph excess** ``g - c`` is 0 for attention that
  ignores the text and positive for attention drawn to it ("toward background" is below 0);
* the **attention distance** ``d = mean_{k,i} sum_j a_kij ||p_i - p_j||``, in patches (the
  "mean attention distance" of Dosovitskiy et al. 2021, Fig. 7). A uniform row scores the
  grid's mean pairwise distance ``d_u``; ``d / d_u`` is 1 for diffuse attention and near 0
  for attention on the query's own patch.

Both are per crop, so encoders measured on the same crops are compared with paired
bootstrap intervals over the crops (:func:`mnsp_mm.evaluation.bootstrap.paired_difference`).

Example::

    stats = encoder_patch_attention(cfg, 'pretrain_mnsp/iter_250.pth',
                                    'data/finetune/textrecog_val_default.json', num=300)
    stats['glyph_excess'][-1]    # (300,) last layer, one value per crop
    stats['distance_ratio'][-1]  # (300,) d / d_u
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from ..evaluation.bootstrap import bootstrap_mean, paired_difference
from .attention import text_fraction_per_patch
from .attention_maps import list_samples, load_sample
from .model_input import calibrate_batchnorm, input_spec, load_backbone, preprocess


def patch_distances(grid: Tuple[int, int]) -> Tensor:
    """(h*w, h*w) Euclidean distances between the patch centres of ``grid``, in patches."""
    h, w = grid
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing='ij')
    points = torch.stack([ys.flatten(), xs.flatten()], dim=1)
    return torch.cdist(points, points)


def patch_rows(weights: Tensor) -> Tensor:
    """The patch queries' rows over the patch tokens, renormalised.

    Args:
        weights: (B, heads, 1 + N, 1 + N) attention of one layer, [cls] first.

    Returns:
        (B, heads, N, N) rows that sum to 1.
    """
    if weights.dim() != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f'weights must be (B, heads, 1 + N, 1 + N), got {tuple(weights.shape)}')
    rows = weights[:, :, 1:, 1:].float()
    return rows / rows.sum(dim=-1, keepdim=True).clamp_min(1e-12)


def layer_stats(weights: Tensor, text_frac: Tensor) -> Dict[str, Tensor]:
    """Glyph share, its chance level and the attention distance of one layer, per crop.

    Args:
        weights: (B, heads, 1 + h*w, 1 + h*w) attention weights, [cls] first.
        text_frac: (B, h, w) glyph coverage per patch, in [0, 1].

    Returns:
        dict of (B,) tensors: ``glyph_share``, ``chance``, ``glyph_excess`` (share minus
        chance), ``distance`` (patches) and ``distance_ratio`` (over the uniform row's).
    """
    rows = patch_rows(weights)
    B, grid = rows.shape[0], tuple(text_frac.shape[-2:])
    if text_frac.shape[0] != B or rows.shape[-1] != grid[0] * grid[1]:
        raise ValueError(f'text_frac {tuple(text_frac.shape)} does not match attention over '
                         f'{rows.shape[-1]} patches of {B} crops')
    t = text_frac.reshape(B, 1, 1, -1).float()
    share = (rows * t).sum(-1).mean(dim=(1, 2))
    chance = text_frac.reshape(B, -1).float().mean(1)
    dist = patch_distances(grid)
    distance = (rows * dist).sum(-1).mean(dim=(1, 2))
    uniform = dist.mean()  # a uniform row's distance, averaged over the queries
    return dict(glyph_share=share, chance=chance, glyph_excess=share - chance,
                distance=distance, distance_ratio=distance / uniform.clamp_min(1e-12))


@torch.no_grad()
def patch_attention(model, images: Tensor, glyph_masks: Tensor) -> Dict[str, List[Tensor]]:
    """:func:`layer_stats` of every layer of an encoder on a batch of crops.

    Args:
        model: a :class:`~mnsp_mm.models.TextViT` (``encode_image(x, need_weights=True)``).
        images: (B, 3, H, W) normalised crops at the model's input size.
        glyph_masks: (B, H, W) glyph masks in [0, 1].

    Returns:
        ``{name: [(B,) tensor per layer]}`` for the names of :func:`layer_stats`.
    """
    was_training = model.training
    model.eval()
    try:
        _, weights = model.encode_image(images.float(), need_weights=True)
    finally:
        model.train(was_training)
    h, w = images.shape[-2] // model.patch_size[0], images.shape[-1] // model.patch_size[1]
    text_frac = text_fraction_per_patch(glyph_masks, (h, w))
    out: Dict[str, List[Tensor]] = {}
    for layer in weights:
        for name, value in layer_stats(layer, text_frac).items():
            out.setdefault(name, []).append(value)
    return out


def encoder_patch_attention(cfg, checkpoint: Optional[str], ann_file, num: int = 300,
                            seed: int = 0, batch_size: int = 100) -> Dict[str, list]:
    """:func:`patch_attention` of one encoder on the first ``num`` crops of ``ann_file``.

    Args:
        cfg: an mmengine ``Config`` with ``model.backbone``.
        checkpoint: the encoder, or None for the random initialisation (``seed``; its stem's
            BatchNorm statistics calibrated on the crops, as fine-tuning would).
        ann_file: a textrecog json with ``mask_path`` entries (the synthetic renderer's).
        num: crops.
        seed: torch seed of the random initialisation.
        batch_size: crops per forward pass.

    Returns:
        ``{name: [[per-crop float, ...] per layer]}`` for the names of :func:`layer_stats`.

    Raises:
        ValueError: a crop of ``ann_file`` without a glyph mask.
    """
    if checkpoint is None:
        torch.manual_seed(seed)
    model = load_backbone(cfg, checkpoint)
    samples, ann = list_samples(ann_file, num)
    missing = [str(s['img']) for s in samples if s['mask'] is None]
    if missing:
        raise ValueError(f'{ann}: {len(missing)} crops have no mask_path (first: {missing[0]}); '
                         'the glyph share needs glyph masks (the synthetic test and '
                         'validation sets have them)')
    size = tuple(g * p for g, p in zip(model.patch_resolution, model.patch_size))
    loaded = [load_sample(s, size) for s in samples]
    images = preprocess([image for image, _ in loaded], input_spec(cfg))
    masks = torch.from_numpy(np.stack([mask for _, mask in loaded]))
    if checkpoint is None:
        calibrate_batchnorm(model, [images])
    out: Dict[str, list] = {}
    for start in range(0, len(images), batch_size):
        part = patch_attention(model, images[start:start + batch_size],
                               masks[start:start + batch_size])
        for name, layers in part.items():
            if name not in out:
                out[name] = [[] for _ in layers]
            for per_layer, values in zip(out[name], layers):
                per_layer.extend(values.tolist())
    return out


MEASURES = ('glyph_excess', 'distance_ratio')


def layer_means(stats: Dict[str, list], names: Sequence[str] = MEASURES) -> Dict[str, list]:
    """Per-crop values averaged over the layers: ``{name: [per-crop float, ...]}``."""
    return {n: np.mean(np.asarray(stats[n], np.float64), axis=0).tolist() for n in names}


def summarise(per_crop: Dict[str, dict], reference: Optional[str] = None) -> dict:
    """95% bootstrap intervals over the crops, and paired ones against ``reference``.

    Args:
        per_crop: ``{encoder: encoder_patch_attention(...)}``, every encoder on the same crops.
        reference: the encoder the others are paired with (None: no differences).

    Returns:
        ``{encoder: {'last' | 'mean': {measure: {value, low, high}}}}`` for the last layer
        and the mean over the layers; with ``reference`` also ``diff, diff_low, diff_high``.
    """
    views = {name: {'last': {m: stats[m][-1] for m in MEASURES}, 'mean': layer_means(stats)}
             for name, stats in per_crop.items()}
    out = {}
    for name, view in views.items():
        out[name] = {}
        for where, values in view.items():
            out[name][where] = {}
            for m, v in values.items():
                iv = bootstrap_mean(v)
                row = dict(value=iv.value, low=iv.low, high=iv.high)
                if reference and name != reference:
                    d = paired_difference(v, views[reference][where][m])
                    row.update(diff=d.value, diff_low=d.low, diff_high=d.high)
                out[name][where][m] = row
    return out
