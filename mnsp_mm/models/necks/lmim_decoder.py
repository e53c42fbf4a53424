"""LMIM's decoder: masked-token queries that self-attend and cross-attend to guidance tokens.

Also the building block of MNSP's heads (next-scale queries cross-attending to coarser
scales, masked full-scale queries cross-attending to the multi-scale context).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from ...registry import register_model
from ..utils.pos_embed import sincos_2d

ORDERS = {'sa_ca': ('self', 'cross', 'ffn'), 'ca_sa': ('cross', 'self', 'ffn')}


class DecoderBlock(nn.Module):
    """Post-LN Transformer block: self-attention, cross-attention and FFN in a chosen order.

    Written here because ``nn.TransformerDecoderLayer`` fixes the order to SA -> CA -> FFN
    and LMIM's ablation also needs CA -> SA.

    Args:
        dims: width. num_heads: attention heads. ffn_dims: FFN hidden width.
        dropout: on attention weights and every residual branch.
        order: ``'sa_ca'`` or ``'ca_sa'``.
        norm_eps: LayerNorm epsilon (1e-6, as the official LMIM decoder).

    Shapes:
        forward(x (B, N, dims), context (B, M, dims) or None) -> (B, N, dims); without
        context the cross-attention step is skipped.
    """

    def __init__(self, dims: int, num_heads: int, ffn_dims: int, dropout: float = 0.1,
                 order: str = 'sa_ca', norm_eps: float = 1e-6):
        super().__init__()
        if order not in ORDERS:
            raise ValueError(f'order must be one of {sorted(ORDERS)}, got {order!r}')
        self.order = ORDERS[order]
        self.self_attn = nn.MultiheadAttention(dims, num_heads, dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dims, num_heads, dropout, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dims, ffn_dims), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dims, dims))
        self.norm_self, self.norm_cross, self.norm_ffn = (nn.LayerNorm(dims, eps=norm_eps)
                                                          for _ in range(3))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, context: Optional[Tensor] = None) -> Tensor:
        for step in self.order:
            if step == 'self':
                y = self.self_attn(x, x, x, need_weights=False)[0]
                x = self.norm_self(x + self.drop(y))
            elif step == 'cross' and context is not None:
                y = self.cross_attn(x, context, context, need_weights=False)[0]
                x = self.norm_cross(x + self.drop(y))
            elif step == 'ffn':
                x = self.norm_ffn(x + self.drop(self.ffn(x)))
        return x


@register_model()
class GuidedDecoder(BaseModule):
    """LMIM decoder (defaults: 2 post-LN blocks, 512-d, 16 heads, FFN 2048, dropout 0.1).

    Queries are the encoder's visible tokens and mask tokens put back in token order with
    fixed 2-D sin-cos positions on the true grid (as MAE's decoder); each block
    self-attends among them and cross-attends to the projected guidance tokens.

    Args:
        grid: ``(h, w)`` token grid of the masked image, e.g. (8, 32).
        in_dims: encoder width (queries). context_dims: guidance width (default in_dims).
        embed_dims, depth, num_heads, ffn_dims, dropout, order: the blocks.
        out_dims: prediction width (the target's: 384 for a ViT-S teacher).
        norm_eps: epsilon of every LayerNorm (blocks and final norm); 1e-6 as the official
            LMIM decoder (PyTorch's default is 1e-5).

    ``pos_embed`` (1, 1 + h*w, embed_dims) is a persistent buffer: built here on the true
    ``grid``, and replaced by the stored table when a checkpoint is loaded, so a converted
    official LMIM decoder keeps its 16x16-layout table (see ``mnsp_mm/checkpoint/convert.py``).

    Shapes:
        forward(x (B, 1+K, in_dims) with cls first, ids_restore (B, h*w),
        context (B, M, context_dims) or None) -> (B, h*w, out_dims).
        decode(queries (B, N, embed_dims), context) -> (B, N, out_dims).
        positions(grid) -> (1, h*w, embed_dims) for queries on another grid.
    """

    def __init__(self,
                 grid: Sequence[int] = (8, 32),
                 in_dims: int = 384,
                 context_dims: Optional[int] = None,
                 embed_dims: int = 512,
                 depth: int = 2,
                 num_heads: int = 16,
                 ffn_dims: int = 2048,
                 dropout: float = 0.1,
                 order: str = 'sa_ca',
                 out_dims: int = 384,
                 norm_eps: float = 1e-6,
                 init_cfg: Optional[Union[dict, list]] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Xavier', distribution='uniform', layer='Linear'),
                        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
        super().__init__(init_cfg=init_cfg)
        self.grid = (int(grid[0]), int(grid[1]))
        self.embed = nn.Linear(in_dims, embed_dims)
        self.context_embed = nn.Linear(context_dims or in_dims, embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.register_buffer('pos_embed', sincos_2d(self.grid, embed_dims, cls_token=True))
        self.blocks = nn.ModuleList(
            DecoderBlock(embed_dims, num_heads, ffn_dims, dropout, order, norm_eps)
            for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.pred = nn.Linear(embed_dims, out_dims)
        self._pos_cache: Dict[Tuple[int, int], Tensor] = {}

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.mask_token, std=.02)

    def positions(self, grid: Sequence[int]) -> Tensor:
        """(1, h*w, embed_dims) sin-cos positions of another grid, aligned to ``self.grid``."""
        grid = (int(grid[0]), int(grid[1]))
        if grid == self.grid:
            return self.pos_embed[:, 1:]
        table = self._pos_cache.get(grid)
        if table is None or table.device != self.pos_embed.device:  # fixed: build once
            table = sincos_2d(grid, self.pos_embed.shape[-1], self.grid).to(self.pos_embed)
            self._pos_cache[grid] = table
        return table

    def decode(self, queries: Tensor, context: Optional[Tensor] = None) -> Tensor:
        """Blocks, norm and prediction on prepared queries; ``context`` is already embedded."""
        for block in self.blocks:
            queries = block(queries, context)
        return self.pred(self.norm(queries))

    def forward(self, x: Tensor, ids_restore: Tensor, context: Optional[Tensor] = None) -> Tensor:
        x = self.embed(x)
        B, L, D = x.shape[0], ids_restore.shape[1], x.shape[2]
        tokens = torch.cat([x[:, 1:], self.mask_token.expand(B, L + 1 - x.shape[1], -1)], 1)
        tokens = tokens.gather(1, ids_restore[..., None].expand(-1, -1, D))
        queries = torch.cat([x[:, :1], tokens], 1) + self.pos_embed
        ctx = None if context is None else self.context_embed(context)
        return self.decode(queries, ctx)[:, 1:]
