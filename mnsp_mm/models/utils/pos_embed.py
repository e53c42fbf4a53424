"""Fixed 2-D sine-cosine position embeddings on any (h, w) grid.

Written here because mmpretrain's ``build_2d_sincos_position_embedding`` flattens its
meshgrid column-major, which only matches the row-major patch order on square grids.
"""
from typing import Sequence, Tuple

import torch


def sincos_1d(pos: torch.Tensor, dims: int, temperature: float = 10000.) -> torch.Tensor:
    """Embed 1-D positions.

    Args:
        pos: positions, shape (M,).
        dims: output width, even.

    Returns:
        Tensor (M, dims): ``[sin(pos * omega), cos(pos * omega)]``.
    """
    omega = torch.arange(dims // 2, dtype=torch.float64) / (dims / 2.)
    omega = 1. / temperature**omega
    out = pos.to(torch.float64)[:, None] * omega[None]
    return torch.cat([out.sin(), out.cos()], dim=1).float()


def sincos_2d(grid: Sequence[int],
              dims: int,
              ref_grid: Sequence[int] = None,
              cls_token: bool = False) -> torch.Tensor:
    """2-D sine-cosine position embedding in row-major (h outer, w inner) token order.

    The layout is the one of the official MAE code: the first half of the channels embeds the
    column (x) coordinate and the second half the row (y) coordinate, so an 8x32 grid built
    here equals MAE's ``get_2d_sincos_pos_embed`` for that grid.

    Args:
        grid: ``(h, w)`` token grid.
        dims: embedding width, divisible by 4.
        ref_grid: if given, coordinates are expressed in this (finer) grid's units at the cell
            centres, so the same image location gets the same embedding at every resolution
            (cell ``j`` of a grid ``s`` times coarser sits at ``(j + .5) * s - .5``).
        cls_token: prepend an all-zero row for the class token.

    Returns:
        Tensor (1, h * w [+1], dims).
    """
    h, w = int(grid[0]), int(grid[1])
    if dims % 4:
        raise ValueError(f'sin-cos position embedding needs dims divisible by 4, got {dims}')
    ref_h, ref_w = (h, w) if ref_grid is None else (int(ref_grid[0]), int(ref_grid[1]))
    ys = (torch.arange(h, dtype=torch.float64) + .5) * (ref_h / h) - .5
    xs = (torch.arange(w, dtype=torch.float64) + .5) * (ref_w / w) - .5
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    emb = torch.cat([sincos_1d(xx.flatten(), dims // 2), sincos_1d(yy.flatten(), dims // 2)], 1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, dims), emb], dim=0)
    return emb[None]


def grid_of(img_hw: Sequence[int], patch_hw: Sequence[int]) -> Tuple[int, int]:
    """Token grid of an image, with a clear error when the size does not divide."""
    (h, w), (ph, pw) = img_hw, patch_hw
    if h <= 0 or w <= 0 or h % ph or w % pw:
        raise ValueError(f'image size {h}x{w} is not divisible by the patch size {ph}x{pw}')
    return h // ph, w // pw
