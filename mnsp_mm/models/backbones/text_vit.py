"""Text ViT: mmpretrain's VisionTransformer for wide text crops (32x128, 4x4 patches, 8x32 grid).

What it changes from mmpretrain's ViT:
* any (h, w) token grid: row-major 2-D sin-cos positions (no square grid), and the same
  weights run at several input resolutions (positions are re-derived per grid);
* MAE-style random masking that returns what a decoder needs to restore token order;
* optional attention masks (block-causal multi-scale attention) and attention maps;
* loading keeps a stored ``pos_embed`` of the right length as it is (the official MAERec
  checkpoints store a 16x16 sin-cos layout for the 8x32 grid and were trained with it).

Parameter names are mmpretrain's (``patch_embed.projection``, ``layers.N.attn.qkv``, ``ln1``),
so mmpretrain's layer-decay optimizer constructor and ``get_layer_depth`` work unchanged.
"""
import math
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmpretrain.models.backbones.vision_transformer import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor, nn

from ...registry import register_model
from ..utils.pos_embed import grid_of, sincos_2d
from .conv_stem import ConvStem


class MaskedTokens(NamedTuple):
    """Output of a masked forward pass.

    Attributes:
        tokens: (B, 1 + K, C) encoded [cls] + kept patch tokens, K = int(L * (1 - ratio)).
        mask: (B, L) float, 1 where the patch was removed, in the original token order.
        ids_restore: (B, L) index that puts ``[kept, removed]`` back into token order.
        ids_keep: (B, K) token indices of the kept patches.
        grid: (h, w) token grid of the input, L = h * w.
    """
    tokens: Tensor
    mask: Tensor
    ids_restore: Tensor
    ids_keep: Tensor
    grid: Tuple[int, int]


def random_masking(x: Tensor, mask_ratio: float) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Keep a random ``int(L * (1 - mask_ratio))`` tokens per sample (MAE's per-sample shuffle).

    Args:
        x: (B, L, C) tokens.
        mask_ratio: fraction removed, in [0, 1).

    Returns:
        ``(kept (B, K, C), mask (B, L), ids_restore (B, L), ids_keep (B, K))``.
    """
    if not 0. <= mask_ratio < 1.:
        raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
    B, L, C = x.shape
    keep = int(L * (1 - mask_ratio))
    ids_shuffle = torch.rand(B, L, device=x.device).argsort(dim=1)
    ids_restore = ids_shuffle.argsort(dim=1)
    ids_keep = ids_shuffle[:, :keep]
    kept = x.gather(1, ids_keep[..., None].expand(-1, -1, C))
    mask = torch.ones(B, L, device=x.device)
    mask[:, :keep] = 0
    return kept, mask.gather(1, ids_restore), ids_restore, ids_keep


def _attention(attn: nn.Module, x: Tensor, attn_mask: Optional[Tensor],
               need_weights: bool) -> Tuple[Tensor, Optional[Tensor]]:
    """mmpretrain ``MultiheadAttention`` forward with an optional mask and attention weights.

    Written here because mmpretrain's attention takes no mask and returns no weights; it
    uses the module's own ``qkv`` / ``proj`` / dropout / layer-scale, so weights are shared.
    """
    B, N, _ = x.shape
    q, k, v = attn.qkv(x).reshape(B, N, 3, attn.num_heads, attn.head_dims).permute(2, 0, 3, 1, 4)
    weights = None
    if need_weights:
        logits = (q @ k.transpose(-2, -1)) * attn.head_dims**-0.5
        if attn_mask is not None:
            logits = logits.masked_fill(~attn_mask, float('-inf'))
        weights = logits.softmax(dim=-1)
        out = weights @ v
    else:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=attn.attn_drop if attn.training else 0.)
    out = attn.proj(out.transpose(1, 2).reshape(B, N, attn.embed_dims))
    return attn.out_drop(attn.gamma1(attn.proj_drop(out))), weights


def run_layer(layer: nn.Module, x: Tensor, attn_mask: Optional[Tensor] = None,
              need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
    """One mmpretrain ``TransformerEncoderLayer`` step with an optional boolean attention mask.

    Args:
        layer: the encoder layer.
        x: (B, N, C) tokens.
        attn_mask: (N, N) or (B, 1, N, N) bool, True where attention is allowed.
        need_weights: also return the attention weights (B, heads, N, N).

    Returns:
        ``(x (B, N, C), weights or None)``.
    """
    if attn_mask is None and not need_weights:
        return layer(x), None
    y, weights = _attention(layer.attn, layer.ln1(x), attn_mask, need_weights)
    x = x + y
    return layer.ffn(layer.ln2(x), identity=x), weights


@register_model(scopes=('mmpretrain', 'mmocr'))
class TextViT(VisionTransformer):
    """Vision Transformer for text crops with non-square token grids.

    Args:
        arch: ``'tiny'`` (192-d, 12 layers, 3 heads), ``'small'`` (384-d, 12, 6), ``'base'``
            (768-d, 12, 12), or a dict with ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels``. Note ``'small'`` is the DeiT/MAERec ViT-S, not
            mmpretrain's 8-layer 768-d ``'small'``.
        img_size: ``(h, w)`` the position table is built for. Default (32, 128).
        patch_size: int or ``(ph, pw)``. Default 4.
        stem: ``'patch'``: the linear patch projection (ViT, MAERec); ``'conv'``: a small
            CNN down to the patch size (:class:`ConvStem`; power-of-two patches), which a small
            ViT trained on little data needs to learn to read in a few thousand steps.
        stem_channels_last: the conv stem runs on NHWC tensors (``ConvStem(channels_last)``,
            a CPU speed switch; same weights and function up to float rounding).
        learnable_pos: train the position table (fine-tuning) instead of fixing it to
            sin-cos (pretraining, as MAE).
        out_type: ``'raw'`` (B, 1+L, C), ``'featmap'`` (B, C, h, w), ``'cls_token'`` (B, C)
            or ``'avg_featmap'`` (B, C).
        tuple_output: return a tuple (mmpretrain convention) or, with one ``out_indices``
            entry, the tensor itself (what MMOCR decoders take).
        mask_ratio: default ratio for ``forward(x, mask=True)``.
        drop_path_rate, drop_rate, qkv_bias, norm_cfg, final_norm, out_indices,
        pretrained: a checkpoint of ours (pretraining or fine-tuning, or the output of
            ``tools/convert_checkpoint.py`` for official weights) to initialise from; keys
            under ``pretrained_prefix`` are loaded. Shorthand for
            ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` that also works
            from the command line: ``--cfg-options model.backbone.pretrained=PATH``.
        pretrained_prefix: key prefix of the backbone in ``pretrained``.
        frozen_stages, layer_cfgs, init_cfg: as mmpretrain's ``VisionTransformer``.
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(embed_dims=192, num_layers=12, num_heads=3,
                                           feedforward_channels=768)),
        **dict.fromkeys(['s', 'small'], dict(embed_dims=384, num_layers=12, num_heads=6,
                                            feedforward_channels=1536)),
        **dict.fromkeys(['b', 'base'], dict(embed_dims=768, num_layers=12, num_heads=12,
                                           feedforward_channels=3072)),
    }
    OUT_TYPES = {'raw', 'cls_token', 'featmap', 'avg_featmap'}

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 img_size: Union[int, Sequence[int]] = (32, 128),
                 patch_size: Union[int, Sequence[int]] = 4,
                 stem: str = 'patch',
                 stem_channels_last: bool = False,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 final_norm: bool = True,
                 out_type: str = 'raw',
                 learnable_pos: bool = False,
                 tuple_output: bool = True,
                 mask_ratio: float = 0.75,
                 frozen_stages: int = -1,
                 layer_cfgs: Union[dict, Sequence[dict]] = dict(),
                 pretrained: Optional[str] = None,
                 pretrained_prefix: str = 'backbone.',
                 init_cfg: Optional[Union[dict, Sequence[dict]]] = None):
        img_size = tuple(img_size) if isinstance(img_size, Sequence) else (img_size, img_size)
        patch = tuple(patch_size) if isinstance(patch_size, Sequence) else (patch_size, ) * 2
        grid_of(img_size, patch)  # clear error before any module is built
        if stem not in ('patch', 'conv'):
            raise ValueError(f"stem must be 'patch' or 'conv', got {stem!r}")
        if pretrained:
            init_cfg = dict(type='Pretrained', checkpoint=pretrained, prefix=pretrained_prefix)
        elif init_cfg is None:  # MAE's initialisation
            init_cfg = [dict(type='Xavier', distribution='uniform', layer='Linear'),
                        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
        super().__init__(
            arch=arch, img_size=img_size, patch_size=patch, in_channels=in_channels,
            out_indices=list(out_indices) if isinstance(out_indices, Sequence) else out_indices,
            drop_rate=drop_rate, drop_path_rate=drop_path_rate, qkv_bias=qkv_bias,
            norm_cfg=norm_cfg, final_norm=final_norm, out_type=out_type, with_cls_token=True,
            frozen_stages=frozen_stages, patch_cfg=dict(padding=0), layer_cfgs=layer_cfgs,
            init_cfg=init_cfg)
        if not tuple_output and len(self.out_indices) != 1:
            raise ValueError('tuple_output=False needs exactly one entry in out_indices, '
                             f'got {self.out_indices}')
        if stem == 'conv':
            self.patch_embed = ConvStem(self.embed_dims, patch, in_channels,
                                        channels_last=stem_channels_last)
        elif stem_channels_last:
            raise ValueError("stem_channels_last=True needs stem='conv' (the linear patch "
                             f'projection has no convolution stack), got stem={stem!r}')
        self.patch_size = patch
        self.learnable_pos = learnable_pos
        self.pos_embed.requires_grad_(learnable_pos)
        self.tuple_output = tuple_output
        self.mask_ratio = mask_ratio
        self._pos_cache: Dict[Tuple[int, int], Tensor] = {}

    def train(self, mode: bool = True) -> 'TextViT':
        """As ``nn.Module.train`` (mmpretrain's ``BaseBackbone.train`` returns None)."""
        super().train(mode)
        return self

    # ----------------------------------------------------------------- weights
    def init_weights(self) -> None:
        """MAE initialisation: sin-cos positions, xavier patch projection, N(0, .02) cls."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        self.pos_embed.data.copy_(sincos_2d(self.patch_resolution, self.embed_dims, cls_token=True))
        w = self.patch_embed.projection.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=.02)

    def _prepare_pos_embed(self, state_dict, prefix, *args, **kwargs):
        """Keep a stored ``pos_embed`` of our length as it is; otherwise adapt it, loudly.

        A fixed (sin-cos) table of another length is rebuilt for our grid; a learned one is
        resized from the grid of the same aspect ratio that has its length (or the square).
        """
        name = prefix + 'pos_embed'
        if name not in state_dict or state_dict[name].shape == self.pos_embed.shape:
            return
        stored = state_dict[name]
        logger = MMLogger.get_current_instance()
        n = stored.shape[1] - 1
        if not self.learnable_pos:
            logger.info(f'{name}: stored {tuple(stored.shape)} replaced by the fixed sin-cos '
                        f'table of the {self.patch_resolution} grid')
            state_dict[name] = sincos_2d(self.patch_resolution, self.embed_dims, cls_token=True)
            return
        h, w = self.patch_resolution
        src_h = int(round(math.sqrt(n * h / w)))
        src = (src_h, n // src_h) if src_h and src_h * (n // src_h) == n else None
        if src is None and int(math.isqrt(n))**2 == n:
            src = (math.isqrt(n), ) * 2
        if src is None:
            raise ValueError(f'{name}: cannot infer the token grid of a stored table with {n} '
                             f'patch positions for the {self.patch_resolution} grid')
        logger.info(f'{name}: resizing the stored {src} table to {self.patch_resolution}')
        state_dict[name] = resize_pos_embed(stored, src, self.patch_resolution, 'bicubic', 1)

    # ------------------------------------------------------------ building blocks
    def pos_embed_for(self, grid: Sequence[int]) -> Tensor:
        """Position table (1, 1 + h*w, C) for a token grid of any size.

        The model's own grid uses the stored table. Other grids get sin-cos positions aligned
        to it (same image location, same embedding; see ``sincos_2d(ref_grid=...)``) when the
        table is fixed, or the bicubic resize of the learned table.
        """
        grid = (int(grid[0]), int(grid[1]))
        if grid == tuple(self.patch_resolution):
            return self.pos_embed
        if self.learnable_pos:
            return resize_pos_embed(self.pos_embed, self.patch_resolution, grid, 'bicubic', 1)
        table = self._pos_cache.get(grid)
        if table is None or table.device != self.pos_embed.device:
            table = sincos_2d(grid, self.embed_dims, self.patch_resolution).to(self.pos_embed)
            self._pos_cache[grid] = table
        return torch.cat([self.pos_embed[:, :1], table], dim=1)

    def embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """Patchify and add positions (no cls token).

        Args:
            x: (B, C_in, H, W) images; H, W divisible by the patch size.

        Returns:
            ``(tokens (B, h*w, C), (h, w))``.
        """
        grid = grid_of(x.shape[-2:], self.patch_size)
        tokens, _ = self.patch_embed(x)
        return tokens + self.pos_embed_for(grid)[:, 1:], grid

    def cls_tokens(self, batch: int) -> Tensor:
        """(B, 1, C) class token with its position."""
        return (self.cls_token + self.pos_embed[:, :1]).expand(batch, -1, -1)

    def encode(self, x: Tensor, attn_mask: Optional[Tensor] = None,
               need_weights: bool = False) -> Union[Tensor, Tuple[Tensor, list]]:
        """Run the transformer layers (+ final norm) on a token sequence.

        Args:
            x: (B, N, C) tokens, cls first.
            attn_mask: optional (N, N) bool, True where attention is allowed.
            need_weights: also return the per-layer attention weights (B, heads, N, N).

        Returns:
            (B, N, C) tokens, or ``(tokens, [weights per layer])`` with ``need_weights``.
        """
        x = self.pre_norm(self.drop_after_pos(x))
        all_weights = []
        for layer in self.layers:
            x, weights = run_layer(layer, x, attn_mask, need_weights)
            all_weights.append(weights)
        if self.final_norm:
            x = self.ln1(x)
        return (x, all_weights) if need_weights else x

    def encode_image(self, x: Tensor, need_weights: bool = False):
        """(B, 1 + h*w, C) final tokens of an unmasked image, cls first (see :meth:`encode`)."""
        tokens, _ = self.embed(x)
        return self.encode(torch.cat([self.cls_tokens(x.shape[0]), tokens], 1),
                           need_weights=need_weights)

    # ----------------------------------------------------------------- forward
    def forward_masked(self, x: Tensor, mask_ratio: Optional[float] = None) -> MaskedTokens:
        """MAE encoder pass: embed, drop ``mask_ratio`` of the patches, encode the rest."""
        tokens, grid = self.embed(x)
        kept, mask, ids_restore, ids_keep = random_masking(
            tokens, self.mask_ratio if mask_ratio is None else mask_ratio)
        latent = self.encode(torch.cat([self.cls_tokens(x.shape[0]), kept], dim=1))
        return MaskedTokens(latent, mask, ids_restore, ids_keep, grid)

    def forward(self, x: Tensor, mask: Optional[bool] = None):
        """Encode images.

        Args:
            x: (B, C_in, H, W); any H, W divisible by the patch size.
            mask: ``True`` for the MAE pass with ``self.mask_ratio`` (returns
                :class:`MaskedTokens`); ``None``/``False`` for plain features.

        Returns:
            With ``mask``: :class:`MaskedTokens`. Otherwise the ``out_type`` features per
            ``out_indices`` (a tuple, or the tensor itself when ``tuple_output=False``).
        """
        if mask:
            return self.forward_masked(x)
        tokens, grid = self.embed(x)
        x = self.pre_norm(self.drop_after_pos(torch.cat([self.cls_tokens(x.shape[0]), tokens], 1)))
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i == len(self.layers) - 1 and self.final_norm:
                x = self.ln1(x)
            if i in self.out_indices:
                outs.append(self._format_output(x, grid))
        return tuple(outs) if self.tuple_output else outs[0]
