"""A config's encoder and the input it expects: channel order, normalisation, weights.

:func:`input_spec` reads how a config normalises its images, :func:`preprocess` applies it to
RGB arrays, and :func:`load_backbone` builds the config's TextViT with a checkpoint's encoder
(any format :func:`~mnsp_mm.checkpoint.convert.load_encoder_state_dict` reads). The OpenMMLab
stack is imported lazily, when a backbone is built.
"""
import copy
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

# Load transforms whose ``channel_order`` decides what the data preprocessor receives, with
# their default order (mmcv's LoadImageFromFile loads BGR; our LoadTextImage loads RGB).
_LOADERS = {'LoadImageFromFile': 'bgr', 'mmcv.LoadImageFromFile': 'bgr',
            'LoadImageFromNDArray': 'bgr', 'LoadTextImage': 'rgb'}
_SCOPE_DEFAULT_ORDER = {'mmpretrain': 'rgb', 'mmocr': 'bgr'}


# ------------------------------------------------------------------------ attention maps


@dataclass(frozen=True)
class InputSpec:
    """How a config's model wants its input tensor.

    Attributes:
        channel_order: ``'rgb'`` or ``'bgr'``: the order of the channels of the normalised
            tensor (after the data preprocessor's own channel swap, if any).
        mean: per-channel mean, in ``channel_order``.
        std: per-channel std, in ``channel_order``.
        loaded_order: the order the config's pipeline loads images in.
    """
    channel_order: str
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    loaded_order: str


def _pipelines(cfg):
    for key in ('test_pipeline', 'val_pipeline', 'train_pipeline'):
        if cfg.get(key):
            yield cfg.get(key)
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        for ds in [dataset] + list(dataset.get('datasets') or []):
            if ds.get('pipeline'):
                yield ds['pipeline']


def _loaded_order(cfg) -> str:
    """Channel order of the config's image-loading transform (scope default if none)."""
    for pipeline in _pipelines(cfg):
        for t in pipeline:
            if isinstance(t, dict) and t.get('type') in _LOADERS:
                return str(t.get('channel_order', _LOADERS[t['type']])).lower()
    return _SCOPE_DEFAULT_ORDER.get(cfg.get('default_scope'), 'bgr')


def input_spec(cfg) -> InputSpec:
    """Read the input normalisation from a config's ``model.data_preprocessor`` and pipeline.

    Works for pretraining configs (``SelfSupDataPreprocessor``, ``to_rgb`` / ``bgr_to_rgb``
    on images our ``LoadTextImage`` loads as RGB) and fine-tuning ones
    (``TextRecogDataPreprocessor``, ``bgr_to_rgb`` on images mmcv loads as BGR): any swap
    flag reverses the loaded order; mean and std apply after the swap, as in mmengine's
    ``ImgDataPreprocessor``.
    """
    pre = cfg.model.get('data_preprocessor') or {}
    mean = pre.get('mean') or [0., 0., 0.]
    std = pre.get('std') or [1., 1., 1.]
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f'expected 3-channel mean/std in model.data_preprocessor, got {pre}')
    loaded = _loaded_order(cfg)
    swap = any(pre.get(k, False) for k in ('to_rgb', 'bgr_to_rgb', 'rgb_to_bgr'))
    order = ({'rgb': 'bgr', 'bgr': 'rgb'}[loaded]) if swap else loaded
    return InputSpec(order, tuple(float(m) for m in mean), tuple(float(s) for s in std), loaded)


def preprocess(images_rgb: Sequence[np.ndarray], spec: InputSpec) -> Tensor:
    """Normalise RGB uint8 images of one size into the model's input tensor.

    Args:
        images_rgb: (H, W, 3) uint8 RGB arrays, all the same size.
        spec: from :func:`input_spec`.

    Returns:
        (B, 3, H, W) float tensor.
    """
    x = torch.from_numpy(np.stack([np.asarray(im) for im in images_rgb])).float()
    if spec.channel_order == 'bgr':
        x = x.flip(-1)
    x = x.permute(0, 3, 1, 2)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    return (x - mean) / std


def backbone_config(cfg) -> dict:
    """The config's ``model.backbone`` as a plain dict ready to build without weights."""
    if not cfg.get('model') or not cfg.model.get('backbone'):
        raise ValueError(f'config {cfg.filename}: no model.backbone')
    bb = copy.deepcopy(cfg.model.backbone)
    bb = bb.to_dict() if hasattr(bb, 'to_dict') else dict(bb)
    for key in ('pretrained', 'init_cfg'):
        bb.pop(key, None)
    return bb


def load_backbone(cfg, checkpoint: Optional[str] = None, fmt: str = 'auto') -> nn.Module:
    """Build the config's TextViT (mmpretrain scope) and load a checkpoint's encoder strictly.

    Args:
        cfg: an mmengine ``Config`` (pretraining or fine-tuning).
        checkpoint: any checkpoint :func:`~mnsp_mm.checkpoint.convert.load_encoder_state_dict`
            reads; ``None`` keeps the random initialisation.
        fmt: official checkpoint format, or ``'auto'``.

    Returns:
        The backbone in eval mode.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
    """
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from .. import models  # noqa: F401  (registers TextViT)
    from ..checkpoint.convert import load_encoder_state_dict

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(backbone_config(cfg))
    if checkpoint is None:
        model.init_weights()
    else:
        model.load_state_dict(load_encoder_state_dict(checkpoint, fmt=fmt), strict=True)
    return model.eval()


def calibrate_batchnorm(model: nn.Module, batches) -> nn.Module:
    """Give a random-weight model's BatchNorms the running statistics of real crops.

    A freshly initialised BatchNorm holds mean 0 / variance 1, so a random encoder in eval
    mode does not normalise at all, while fine-tuning (train mode) normalises with batch
    statistics: without this the random-weight reference row of a frozen-feature diagnostic
    is another network than the one fine-tuning starts from. The statistics are the
    cumulative averages over ``batches`` ((B, 3, H, W) tensors); no weight changes.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return model
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for x in batches:
            model.encode_image(x) if hasattr(model, 'encode_image') else model(x)
    for m in norms:
        m.momentum = 0.1
    return model.eval()
