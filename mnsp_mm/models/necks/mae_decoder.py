"""MAE pixel decoder on a non-square token grid."""
from typing import Optional, Sequence, Union

from mmpretrain.models.necks import MAEPretrainDecoder

from ...registry import register_model
from ..utils.pos_embed import sincos_2d


@register_model()
class TextMAEDecoder(MAEPretrainDecoder):
    """mmpretrain's MAE decoder with positions on the true ``(h, w)`` grid.

    mmpretrain builds the decoder positions on an ``int(sqrt(L))`` square; everything else
    (mask-token unshuffle, blocks, prediction) is reused as is.

    Args:
        grid: ``(h, w)`` token grid of the encoder input, e.g. (8, 32) for 32x128 / 4x4.
        patch_size: ``(ph, pw)`` or int; the prediction width is ``ph * pw * in_chans``.
        in_chans, embed_dim, decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio,
        norm_cfg, predict_feature_dim, init_cfg: as ``MAEPretrainDecoder``.

    Shapes:
        forward(x (B, 1 + K, embed_dim), ids_restore (B, h*w)) -> (B, h*w, predict_dim).
    """

    def __init__(self,
                 grid: Sequence[int] = (8, 32),
                 patch_size: Union[int, Sequence[int]] = 4,
                 in_chans: int = 3,
                 embed_dim: int = 384,
                 decoder_embed_dim: int = 512,
                 decoder_depth: int = 8,
                 decoder_num_heads: int = 16,
                 mlp_ratio: int = 4,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 predict_feature_dim: Optional[int] = None,
                 init_cfg: Optional[Union[dict, list]] = None):
        ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
        if predict_feature_dim is None:
            predict_feature_dim = ph * pw * in_chans
        if init_cfg is None:  # MAE's initialisation
            init_cfg = [dict(type='Xavier', distribution='uniform', layer='Linear'),
                        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)]
        super().__init__(
            num_patches=int(grid[0]) * int(grid[1]), patch_size=ph, in_chans=in_chans,
            embed_dim=embed_dim, decoder_embed_dim=decoder_embed_dim,
            decoder_depth=decoder_depth, decoder_num_heads=decoder_num_heads,
            mlp_ratio=mlp_ratio, norm_cfg=norm_cfg, predict_feature_dim=predict_feature_dim,
            init_cfg=init_cfg)
        self.grid = (int(grid[0]), int(grid[1]))

    def init_weights(self) -> None:
        super().init_weights()
        self.decoder_pos_embed.data.copy_(
            sincos_2d(self.grid, self.decoder_pos_embed.shape[-1], cls_token=True))
