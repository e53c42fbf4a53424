"""MNSP: Masked Next-Scale Prediction with Multi-scale Linguistic Alignment.

Our design from the paper's abstract (the official code is not released); see
``docs/mnsp.md`` for the reasoning behind each choice.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn
from torch.profiler import record_function

from ...registry import register_model
from ..backbones.text_vit import MaskedTokens
from ..losses import cls_alignment_loss
from ..utils.pos_embed import grid_of
from .lmim import check_target_dims, split_views


def block_causal_mask(sizes: Sequence[int], device=None) -> Tensor:
    """(N, N) bool, True where attention is allowed: block i sees blocks 0..i.

    Args:
        sizes: token count of each block (one block per scale, coarse first).
    """
    block = torch.repeat_interleave(torch.arange(len(sizes), device=device),
                                    torch.tensor(list(sizes), device=device))
    return block[:, None] >= block[None, :]


def upsample_tokens(tokens: Tensor, grid: Sequence[int], size: Sequence[int],
                    mode: str = 'nearest') -> Tensor:
    """(B, h*w, C) row-major tokens of ``grid`` -> (B, H*W, C) on the finer grid ``size``."""
    fmap = tokens.transpose(1, 2).reshape(tokens.shape[0], -1, *grid)
    return F.interpolate(fmap, size=tuple(size), mode=mode).flatten(2).transpose(1, 2)


def _choice(key: str, value, allowed: Sequence) -> None:
    if value not in allowed:
        raise ValueError(f'model.{key} must be one of {list(allowed)}, got {value!r}')


@register_model()
class MNSP(BaseSelfSupervisor):
    """Masked next-scale prediction on a pyramid of views of each text crop.

    * **Multi-scale encoding.** The student encodes the coarse views unmasked in one
      sequence ``[cls_1, tokens_1, cls_2, tokens_2, ...]`` with block-causal attention
      (scale k sees scales <= k) and a learned per-scale embedding; the full-scale view is
      encoded on its own with ``backbone.mask_ratio`` of its patches removed, exactly as
      the plain ViT that is later fine-tuned (no scale embedding, no coarse context).
    * **NSP** (``use_nsp``): for each k < S, the grid-k features upsampled to grid k+1 plus
      positions are the queries of ``nsp_neck``, which cross-attends to the context of
      scales <= k and predicts the grid-(k+1) targets.
    * **MIM** (``use_mim``): ``neck`` predicts the masked full-scale tokens from the visible
      ones, cross-attending to the multi-scale context (and the guidance view if given).
    * **MLA** (``use_mla``): every coarse [cls] (and the guidance [cls]) is aligned with the
      full-scale [cls] by MSE, gradient through both (``mla_stop_grad`` stops one side).
    * **Targets**: ``target_generator.pyramid`` — a frozen teacher run once on the full
      view and area-pooled to the coarse grids, or each view's normalised pixels.

    Loss = ``mim_weight * L_mim + nsp_weight * r(t) * L_nsp + mla_weight * L_mla``; a
    switch or a zero weight removes exactly its term. With ``T_k`` the (B, L_k, D) targets
    of grid k, ``up`` the ``nsp_upsample`` of a grid-k token map to grid k+1, ``Q_{k+1}``
    the NSP queries, ``C_{<=k}`` the coarse context of scales <= k and ``M`` the masked
    full-scale tokens::

        L_nsp = mean_{k<S} mse(nsp_neck(Q_{k+1}, C_{<=k}), Y_{k+1})
            Y_{k+1} = T_{k+1}                     nsp_target='feature' (default)
                      T_{k+1} - up(T_k)           nsp_target='residual'
            Q_{k+1} = embed(up(F_k)) + pos_{k+1}  nsp_queries='upsampled' (default; F_k
                                                  the student's grid-k patch tokens)
                      mask_token + pos_{k+1}      nsp_queries='mask'
        L_mim = mse over M of (neck(visible, C), T_S)   C = all coarse tokens (+ guidance),
                                                  or the guidance tokens alone / nothing
                                                  with mim_context='none'
        L_mla = mean_k mse(cls_k, cls_S)          sg(cls_S) with mla_stop_grad='full',
                                                  sg(cls_k) with mla_stop_grad='coarse'
        r(t) = clip((t / t_max - begin) / (end - begin), 0, 1)  with nsp_ramp=(begin, end)
               1                                                 nsp_ramp=None (default)

    ``sg`` is the stop-gradient, ``t`` the 0-based training iteration and ``t_max`` the run's
    ``max_iters`` (mmengine's ``RuntimeInfoHook`` writes both to the message hub; outside a
    training run there are none and ``r = 1``). The defaults are the design of
    ``docs/mnsp.md``; the other values are the NSP design variants of issue #24
    ("NSP design variants" in ``docs/mnsp.md`` says which hypothesis each one tests).

    Args:
        scales: ``(h, w)`` pixel size of each view, coarse to full; the last is the
            backbone's ``img_size``; each must be divisible by the patch size and divide
            the next.
        nsp_neck: a :class:`GuidedDecoder` config for the NSP predictions.
        nsp_upsample: ``'nearest'`` or ``'bilinear'`` upsampling of the NSP queries (and of
            the coarse target for ``nsp_target='residual'``).
        use_guidance: the inputs carry an LMIM guidance view after the pyramid.
        nsp_target: ``'feature'``: NSP predicts the grid-(k+1) targets; ``'residual'``: what
            they add over the upsampled grid-k targets (needs targets that are the same
            features at every grid, i.e. :class:`FrozenTeacher`).
        nsp_queries: ``'upsampled'``: the student's grid-k tokens upsampled to grid k+1,
            embedded, plus positions; ``'mask'``: ``nsp_neck``'s mask token plus positions,
            so every grid-(k+1) prediction has to come through the cross-attention.
        nsp_ramp: ``None`` or ``(begin, end)``, fractions of the training run with
            ``0 <= begin <= end <= 1``: NSP's weight is 0 before ``begin``, rises linearly to
            ``nsp_weight`` at ``end`` (a step at ``begin`` when they are equal).
        mim_context: ``'coarse'``: MIM's decoder cross-attends to every coarse token (+ the
            guidance view); ``'none'``: to the guidance view only, or to nothing (its
            cross-attention is then skipped).
        mla_stop_grad: ``None`` (gradient through both sides, as LMIM), ``'full'`` (the
            full-scale [cls] is a fixed anchor; only the coarse and guidance [cls] move) or
            ``'coarse'`` (the coarse and guidance [cls] are fixed; only the full-scale one
            moves).
        backbone, neck, head, target_generator, data_preprocessor, init_cfg: as
            :class:`BaseSelfSupervisor` (``head`` scores both NSP and MIM predictions).

    Inputs:
        ``[view_1, ..., view_S]`` (+ ``guidance``), view k of shape (B, 3, *scales[k]).

    Shapes (grid k of ``h_k x w_k = L_k`` tokens, student width C, decoder width E, target
    width D): ``F_k`` (B, L_k, C); ``Q_{k+1}`` (B, L_{k+1}, E) with either query kind;
    ``T_k`` and the residual target (B, L_k, D); ``C_{<=k}`` (B, sum_{j<=k}(1 + L_j), C);
    the [cls] tokens (B, C). The loss terms are scalars.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 target_generator: dict,
                 nsp_neck: Optional[dict] = None,
                 scales: Sequence[Sequence[int]] = ((8, 32), (16, 64), (32, 128)),
                 use_nsp: bool = True,
                 use_mim: bool = True,
                 use_mla: bool = True,
                 use_guidance: bool = False,
                 mim_weight: float = 1.0,
                 nsp_weight: float = 1.0,
                 mla_weight: float = 1.0,
                 nsp_upsample: str = 'nearest',
                 data_preprocessor=None,
                 init_cfg=None,
                 nsp_target: str = 'feature',
                 nsp_queries: str = 'upsampled',
                 nsp_ramp: Optional[Sequence[float]] = None,
                 mim_context: str = 'coarse',
                 mla_stop_grad: Optional[str] = None):
        super().__init__(backbone=backbone, neck=neck, head=head,
                         target_generator=target_generator,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.scales = [tuple(int(v) for v in s) for s in scales]
        self.grids = self._check_scales(self.scales)
        self.use_nsp, self.use_mim, self.use_mla = use_nsp and nsp_weight > 0, \
            use_mim and mim_weight > 0, use_mla and mla_weight > 0
        if not (self.use_nsp or self.use_mim or self.use_mla):
            raise ValueError('MNSP: every loss is switched off (use_nsp/use_mim/use_mla)')
        self.use_guidance = use_guidance
        self.mim_weight, self.nsp_weight, self.mla_weight = mim_weight, nsp_weight, mla_weight
        if nsp_upsample not in ('nearest', 'bilinear'):
            raise ValueError(f'nsp_upsample must be nearest or bilinear, got {nsp_upsample!r}')
        self.nsp_upsample = nsp_upsample
        _choice('nsp_target', nsp_target, ('feature', 'residual'))
        _choice('nsp_queries', nsp_queries, ('upsampled', 'mask'))
        _choice('mim_context', mim_context, ('coarse', 'none'))
        _choice('mla_stop_grad', mla_stop_grad, (None, 'full', 'coarse'))
        self.nsp_target, self.nsp_queries = nsp_target, nsp_queries
        self.mim_context, self.mla_stop_grad = mim_context, mla_stop_grad
        self.nsp_ramp = self._check_ramp(nsp_ramp)
        self.nsp_neck = MODELS.build(nsp_neck) if self.use_nsp else None
        check_target_dims(self.target_generator, self.backbone, neck=self.neck,
                          nsp_neck=self.nsp_neck)
        if nsp_target == 'residual' and type(self.target_generator).__name__ != 'FrozenTeacher':
            raise ValueError(f"model.nsp_target='residual' needs the same features at every "
                             f'grid (FrozenTeacher targets); {type(self.target_generator).__name__}'
                             " gives each scale its own pixels: set model.nsp_target='feature'")
        self.scale_embed = nn.Parameter(torch.zeros(len(self.scales) - 1, 1,
                                                    self.backbone.embed_dims))
        self._masks: Dict[Tuple[int, ...], Tensor] = {}

    @staticmethod
    def _check_ramp(ramp: Optional[Sequence[float]]) -> Optional[Tuple[float, float]]:
        if ramp is None:
            return None
        try:
            begin, end = (float(v) for v in ramp)
        except (TypeError, ValueError):
            begin = end = None
        if begin is None or not 0. <= begin <= end <= 1.:
            raise ValueError(f'model.nsp_ramp must be None or (begin, end) fractions of the '
                             f'training run with 0 <= begin <= end <= 1, got {ramp!r}')
        return begin, end

    def nsp_ramp_factor(self, iteration: Optional[int] = None,
                        max_iters: Optional[int] = None) -> float:
        """``r(t)`` of the class docstring: NSP's weight factor at 0-based ``iteration`` of
        ``max_iters`` (by default the message hub's ``iter`` / ``max_iters``; 1 when there
        is no ramp or no training run)."""
        if self.nsp_ramp is None:
            return 1.
        if iteration is None or max_iters is None:
            hub = MessageHub.get_current_instance()
            iteration, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if iteration is None or not max_iters:
            return 1.
        begin, end = self.nsp_ramp
        t = iteration / max_iters
        if end == begin:
            return float(t >= begin)
        return min(max((t - begin) / (end - begin), 0.), 1.)

    def _check_scales(self, scales: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        if len(scales) < 2:
            raise ValueError(f'MNSP needs at least two scales, got scales={scales}')
        if scales[-1] != tuple(self.backbone.img_size):
            raise ValueError(f'MNSP: the last scale {scales[-1]} must be the backbone img_size '
                             f'{tuple(self.backbone.img_size)}')
        for small, big in zip(scales, scales[1:]):
            if big[0] % small[0] or big[1] % small[1] or small == big:
                raise ValueError(f'MNSP: scales must nest, each dividing the next; {small} -> '
                                 f'{big} in scales={scales}')
        return [grid_of(s, self.backbone.patch_size) for s in scales]

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.trunc_normal_(self.scale_embed, std=.02)

    # ------------------------------------------------------------ building blocks
    def encode_coarse(self, views: Sequence[Tensor]) -> Tuple[Tensor, List[int]]:
        """Coarse views -> (B, sum(1 + L_k), C) context, block-causal across scales.

        Returns:
            ``(context, sizes)`` with ``sizes[k] = 1 + L_k`` tokens of scale k (cls first).
        """
        blocks = []
        for k, view in enumerate(views):
            tokens, _ = self.backbone.embed(view)
            cls = self.backbone.cls_tokens(view.shape[0])
            blocks.append(torch.cat([cls, tokens], 1) + self.scale_embed[k])
        sizes = [b.shape[1] for b in blocks]
        key = tuple(sizes)
        mask = self._masks.get(key)
        if mask is None or mask.device != blocks[0].device:
            mask = self._masks[key] = block_causal_mask(sizes, blocks[0].device)
        return self.backbone.encode(torch.cat(blocks, 1), mask), sizes

    def nsp_loss(self, context: Tensor, sizes: List[int], targets: List[Tensor]) -> Tensor:
        """NSP: mean over k < S of the loss of predicting grid k+1 from scales <= k.

        Args:
            context, sizes: :meth:`encode_coarse`'s output.
            targets: (B, L_k, D) targets of every scale, coarse first.

        The queries and the target of each k follow ``nsp_queries`` and ``nsp_target``
        (class docstring); the prediction is (B, L_{k+1}, D) either way.
        """
        ends = torch.tensor(sizes).cumsum(0).tolist()
        # The context projection is per token, so project once and take each prefix.
        embedded = self.nsp_neck.context_embed(context)
        losses = []
        for k in range(len(self.grids) - 1):
            grid, nxt = self.grids[k], self.grids[k + 1]
            if self.nsp_queries == 'mask':
                queries = self.nsp_neck.mask_token + self.nsp_neck.positions(nxt)
                queries = queries.expand(context.shape[0], -1, -1)
            else:
                feats = context[:, ends[k] - sizes[k] + 1:ends[k]]  # patch tokens of scale k
                up = upsample_tokens(feats, grid, nxt, self.nsp_upsample)
                queries = self.nsp_neck.embed(up) + self.nsp_neck.positions(nxt)
            pred = self.nsp_neck.decode(queries, embedded[:, :ends[k]])
            losses.append(self.head.loss(pred, self.nsp_target_of(targets, k + 1)))
        return torch.stack(losses).mean()

    def nsp_target_of(self, targets: List[Tensor], k: int) -> Tensor:
        """(B, L_k, D) what NSP predicts on grid ``k`` (>= 1): the targets, or for
        ``nsp_target='residual'`` the targets minus the upsampled grid-(k-1) targets."""
        if self.nsp_target == 'feature':
            return targets[k]
        return targets[k] - upsample_tokens(targets[k - 1], self.grids[k - 1], self.grids[k],
                                            self.nsp_upsample)

    # ----------------------------------------------------------------- training
    def extract_feat(self, inputs):
        """Unmasked features of the full-scale view."""
        return self.backbone(split_views(inputs)[len(self.scales) - 1])

    def mim_loss(self, out: MaskedTokens, context: Tensor, guide: Optional[Tensor],
                 target: Tensor) -> Tensor:
        """MIM: the masked full-scale tokens from the visible ones and the multi-scale context.

        Args:
            out: the masked full-scale pass, ``out.tokens`` (B, 1 + K, C).
            context: (B, sum(1 + L_k), C) coarse context (:meth:`encode_coarse`), or
                ``None``; not used with ``mim_context='none'``.
            guide: (B, 1 + L, C) guidance-view tokens, appended to the context, or ``None``.
            target: (B, L, D) full-scale targets.
        """
        if self.mim_context == 'none':
            context = None
        ctx = guide if context is None else context if guide is None else \
            torch.cat([context, guide], 1)
        pred = self.neck(out.tokens, out.ids_restore, ctx)
        return self.head.loss(pred, target, out.mask)

    def mla_loss(self, full_cls: Tensor, context: Tensor, sizes: List[int],
                 guide: Optional[Tensor]) -> Tensor:
        """MLA: mean MSE of every coarse [cls] (and the guidance [cls]) to the full-scale one.

        Args:
            full_cls: (B, C) [cls] of the masked full-scale pass.
            context, sizes: :meth:`encode_coarse`'s output, a [cls] first in each block.
            guide: (B, 1 + L, C) guidance-view tokens or ``None``.

        ``mla_stop_grad`` detaches the named side (class docstring).
        """
        starts = torch.tensor([0] + sizes[:-1]).cumsum(0).tolist()
        others = [context[:, s] for s in starts] + ([guide[:, 0]] if guide is not None else [])
        if self.mla_stop_grad == 'full':
            full_cls = full_cls.detach()
        elif self.mla_stop_grad == 'coarse':
            others = [c.detach() for c in others]
        return cls_alignment_loss(full_cls, others)

    def check_views(self, inputs) -> Tuple[List[Tensor], Optional[Tensor]]:
        """``(pyramid, guidance view or None)`` from the packed inputs; wrong counts or sizes
        raise with the scales they should have."""
        views = split_views(inputs)
        want = len(self.scales) + int(self.use_guidance)
        if len(views) != want:
            raise ValueError(f'MNSP expects {want} views per image (scales {self.scales}'
                             f'{" + guidance" if self.use_guidance else ""}), got {len(views)}; '
                             'see configs/_base_/pretrain/mnsp_pipeline.py')
        pyramid = list(views[:len(self.scales)])
        for view, scale in zip(pyramid, self.scales):
            if tuple(view.shape[-2:]) != scale:
                raise ValueError(f'MNSP: a view of size {tuple(view.shape[-2:])} where the '
                                 f'scales {self.scales} expect {scale}')
        return pyramid, (views[-1] if self.use_guidance else None)

    def dummy_inputs(self, batch: int) -> List[Tensor]:
        """Random inputs packed as the pipeline packs them (benchmarks, FLOP counting):
        the pyramid of one random full-scale batch (area-resized), then its mirror image as
        the guidance view when ``use_guidance``."""
        full = torch.randn(batch, 3, *self.scales[-1])
        views = [F.interpolate(full, size=s, mode='area') for s in self.scales[:-1]] + [full]
        return views + [full.flip(-1)] if self.use_guidance else views

    def loss(self, inputs, data_samples: List[DataSample], **kwargs) -> Dict[str, Tensor]:
        # Each part is a profiler region: the benchmark's breakdown reads them (mnsp_mm/bench).
        pyramid, guide_view = self.check_views(inputs)
        with record_function('teacher (no grad, once)'):
            targets = self.target_generator.pyramid(pyramid, self.grids)
        context, sizes = None, None
        if self.use_nsp or self.use_mla or (self.use_mim and self.mim_context == 'coarse'):
            with record_function('encoder, coarse scales (block-causal)'):
                context, sizes = self.encode_coarse(pyramid[:-1])
        guide = None
        if guide_view is not None:
            with record_function('encoder, guidance view'):
                guide = self.backbone.encode_image(guide_view)
        losses = {}
        if self.use_nsp:
            with record_function('NSP decoder + loss'):
                weight = self.nsp_weight * self.nsp_ramp_factor()
                losses['loss_nsp'] = weight * self.nsp_loss(context, sizes, targets)
        if self.use_mim or self.use_mla:
            with record_function('encoder, full scale masked'):
                out = self.backbone.forward_masked(pyramid[-1])
        if self.use_mim:
            with record_function('MIM decoder + loss'):
                losses['loss_mim'] = self.mim_weight * self.mim_loss(out, context, guide,
                                                                     targets[-1])
        if self.use_mla:
            with record_function('MLA'):
                losses['loss_mla'] = self.mla_weight * self.mla_loss(out.tokens[:, 0], context,
                                                                     sizes, guide)
        return losses
