"""Reconstruction targets for LMIM / MNSP: a frozen teacher's features, or normalised pixels."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

from ...registry import register_model
from ...checkpoint.convert import load_encoder_state_dict
from ..heads.pixel_head import patchify


@register_model()
class FrozenTeacher(BaseModule):
    """A text ViT that is never trained: its normalised patch tokens are the target.

    As in LMIM, the teacher is a MAE/MAERec-pretrained encoder applied to the unmasked image;
    it stays in eval mode, its parameters have ``requires_grad=False`` and no update (EMA or
    otherwise) ever touches them.

    Args:
        backbone: config of the teacher's :class:`TextViT` (dims must match the checkpoint).
        checkpoint: our pretraining checkpoint (keys ``backbone.*``) or an official MAE /
            MAERec / LMIM checkpoint (converted on load, ``checkpoint_format``).
        checkpoint_format: ``'auto'`` or one of ``mnsp_mm.checkpoint.convert.OFFICIAL_PREFIXES``
            (``'lmim_teacher'`` takes the teacher out of an LMIM checkpoint).
        random_init: allow ``checkpoint=None`` and keep random weights (the
            "random-feature target" ablation).
        norm_target: ``layer_norm`` without affine over the channels of each token.

    Shapes:
        forward(images (B, 3, H, W)) -> (B, h*w, C) target tokens (no cls).
    """

    def __init__(self, backbone: dict, checkpoint: Optional[str] = None,
                 checkpoint_format: str = 'auto', random_init: bool = False,
                 norm_target: bool = True, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if checkpoint is None and not random_init:
            raise ValueError('FrozenTeacher needs a checkpoint (target_generator.checkpoint=...); '
                             'set random_init=True for the random-feature ablation')
        self.backbone = MODELS.build(dict(backbone, out_type='raw', tuple_output=False))
        self.checkpoint, self.checkpoint_format = checkpoint, checkpoint_format
        self.random_init, self.norm_target = random_init, norm_target
        self.requires_grad_(False)
        # Read (and check) the weights now, when the model is built, so a teacher config that
        # does not match its checkpoint fails before any data is read; used in init_weights.
        self._state = None if checkpoint is None else self._checked_state()

    def _checked_state(self) -> dict:
        """The checkpoint's encoder weights, or a ValueError naming the config key to fix."""
        state = load_encoder_state_dict(self.checkpoint, fmt=self.checkpoint_format)
        own = self.backbone.state_dict()
        wrong = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
                 if k in own and v.shape != own[k].shape]
        missing = sorted(set(own) - set(state))
        if wrong or missing:
            width = state.get('cls_token', next(iter(state.values()))).shape[-1]
            depth = len({k.split('.')[1] for k in state if k.startswith('layers.')})
            what = (f'{wrong[0][0]} is {wrong[0][1]} in the checkpoint but {wrong[0][2]} in '
                    f'the model' if wrong else f'missing keys {missing[:3]}')
            raise ValueError(
                f'model.target_generator.backbone.arch={self.backbone.arch_settings} does not '
                f'match model.target_generator.checkpoint={self.checkpoint!r} ({what}; the '
                f'checkpoint holds a {depth}-layer, {width}-wide encoder)')
        return state

    def init_weights(self) -> None:
        """Random init (ablation) or the checkpoint; loaded strictly, after any init."""
        self.backbone.init_weights()
        if self.checkpoint is not None:
            state = self._state if self._state is not None else self._checked_state()
            self._state = None  # the weights now live in the module
            self.backbone.load_state_dict(state, strict=True)
            MMLogger.get_current_instance().info(f'FrozenTeacher: loaded {self.checkpoint}')
        self.requires_grad_(False)

    @property
    def out_dims(self) -> int:
        """Channels of each target token."""
        return self.backbone.embed_dims

    def train(self, mode: bool = True) -> 'FrozenTeacher':
        """Always in eval mode (no dropout / drop-path in the targets)."""
        return super().train(False)

    def _norm(self, tokens: Tensor) -> Tensor:
        return F.layer_norm(tokens, tokens.shape[-1:]) if self.norm_target else tokens

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        return self._norm(self.backbone(images)[:, 1:])

    @torch.no_grad()
    def pyramid(self, views: Sequence[Tensor], grids: Sequence[Tuple[int, int]]) -> List[Tensor]:
        """Targets on several token grids from ONE teacher pass on the finest view.

        The teacher's (unnormalised) feature map of ``views[-1]`` is area-pooled to each
        coarser grid, then every token is normalised.

        Args:
            views: images per scale, coarse to fine; only the last is used.
            grids: ``(h, w)`` per scale; each must divide the finest grid.

        Returns:
            One (B, h*w, C) target per grid.
        """
        tokens = self.backbone(views[-1])[:, 1:]
        B, L, C = tokens.shape
        fine = tuple(grids[-1])
        fmap = tokens.transpose(1, 2).reshape(B, C, *fine)
        out = []
        for grid in grids:
            pooled = fmap if tuple(grid) == fine else F.adaptive_avg_pool2d(fmap, tuple(grid))
            out.append(self._norm(pooled.flatten(2).transpose(1, 2)))
        return out


@register_model()
class PixelTarget(BaseModule):
    """Patchified pixels as the target (MAE's; the LMIM "pixel target" ablation).

    Args:
        patch_size: int or ``(ph, pw)``.
        norm_pix: normalise each patch by its own mean and std.
        in_channels: image channels (``out_dims = ph * pw * in_channels``).

    Shapes:
        forward(images (B, C, H, W)) -> (B, h*w, ph*pw*C).
    """

    def __init__(self, patch_size: Union[int, Sequence[int]] = 4, norm_pix: bool = True,
                 in_channels: int = 3):
        super().__init__()
        self.patch_size = (patch_size, patch_size) if isinstance(patch_size, int) \
            else tuple(patch_size)
        self.norm_pix = norm_pix
        self.out_dims = self.patch_size[0] * self.patch_size[1] * in_channels

    @torch.no_grad()
    def pyramid(self, views: Sequence[Tensor], grids: Sequence[Tuple[int, int]]) -> List[Tensor]:
        """The pixels of each scale's own view (grid k = view k / patch size)."""
        return [self(view) for view in views]

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        target = patchify(images, self.patch_size)
        if self.norm_pix:
            mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
            target = (target - mean) / (var + 1e-6)**.5
        return target
