"""LMIM's guidance-view augmentation as an mmpretrain / mmocr transform.

LMIM feeds the shared encoder two views of every text crop: the masked view (resize +
normalise only) and an unmasked *guidance view* that is heavily augmented.
:class:`TextGuidanceAug` produces the guidance view. Put it in the guidance branch of an
mmpretrain ``MultiView`` **before** the resize to 32x128::

    dict(type='MultiView', num_views=[1, 1], transforms=[
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
        [dict(type='TextGuidanceAug', preset='medium'),
         dict(type='Resize', scale=(128, 32), keep_ratio=False)]])

The pipeline follows the official LMIM code: imgaug ``SomeOf`` over LinearContrast,
GaussianBlur, a crop, Sharpen, Rotate, PiecewiseAffine, PerspectiveTransform, Solarize and
Grayscale (in random order), then torchvision ``ColorJitter`` applied with probability
``color_jitter_p`` and ``RandomGrayscale``. Only the op list, ``SomeOf(3+)``, the crop and
rotation limits and the colour-jitter settings are taken from LMIM; the other ranges are our
choices (overridable).
"""
import copy
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple

import imgaug.augmenters as iaa
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image
from torchvision import transforms as tvt

from ..registry import register_transform

# skimage >= 0.26 deprecates ``PiecewiseAffineTransform.estimate``, which imgaug 0.4.0 calls
# once per image; the call still works, so silence only that message coming from imgaug.
warnings.filterwarnings('ignore', message=r'`estimate` is deprecated', category=FutureWarning,
                        module=r'imgaug\.')

_COMMON = dict(
    border_mode='edge',  # 'edge' (replicate border pixels) or 'constant' (black)
    solarize_threshold=(64, 192),
)

#: The presets: the single place where every parameter's default lives. An op whose
#: parameter is ``None`` is left out of the ``SomeOf``.
PRESETS: Dict[str, Dict[str, Any]] = {
    'weak': dict(
        _COMMON,
        some_of=(1, 2),
        contrast=(0.75, 1.25),
        blur_sigma=(0.2, 0.8),
        crop_tb=0.05,
        crop_lr=0.01,
        sharpen_alpha=(0.0, 0.3),
        sharpen_lightness=(0.9, 1.1),
        rotate=5,
        piecewise_scale=None,
        perspective_scale=(0.01, 0.02),
        solarize_p=None,
        gray_alpha=(0.0, 0.5),
        color_jitter=(0.2, 0.2, 0.1, 0.05),
        color_jitter_p=0.5,
        gray_p=0.1,
    ),
    'medium': dict(
        _COMMON,
        some_of=(3, None),
        contrast=(0.5, 1.5),
        blur_sigma=(0.5, 1.5),
        crop_tb=0.1,
        crop_lr=0.02,
        sharpen_alpha=(0.0, 0.5),
        sharpen_lightness=(0.8, 1.2),
        rotate=15,
        piecewise_scale=(0.02, 0.03),
        perspective_scale=(0.02, 0.05),
        solarize_p=0.5,
        gray_alpha=(0.0, 1.0),
        color_jitter=(0.4, 0.4, 0.2, 0.1),
        color_jitter_p=0.8,
        gray_p=0.2,
    ),
    'strong': dict(
        _COMMON,
        some_of=(4, None),
        contrast=(0.4, 1.6),
        blur_sigma=(0.5, 2.0),
        crop_tb=0.15,
        crop_lr=0.04,
        sharpen_alpha=(0.2, 0.7),
        sharpen_lightness=(0.7, 1.3),
        rotate=25,
        piecewise_scale=(0.03, 0.05),
        perspective_scale=(0.04, 0.08),
        solarize_p=1.0,
        gray_alpha=(0.5, 1.0),
        color_jitter=(0.6, 0.6, 0.4, 0.2),
        color_jitter_p=0.9,
        gray_p=0.3,
    ),
}


class _SomeOf(iaa.SomeOf):
    """``iaa.SomeOf`` without imgaug 0.4.0's ``np.bool`` (removed in numpy >= 1.24)."""

    # Copy of imgaug 0.4.0 SomeOf._get_augmenter_active with dtype=bool instead of np.bool.
    def _get_augmenter_active(self, nb_rows, random_state):
        nn = self._get_n(nb_rows, random_state)
        nn = [min(n, len(self)) for n in nn]
        augmenter_active = np.zeros((nb_rows, len(self)), dtype=bool)
        for row_idx, n_true in enumerate(nn):
            if n_true > 0:
                augmenter_active[row_idx, 0:n_true] = 1
        for row in augmenter_active:
            random_state.shuffle(row)
        return augmenter_active


# --------------------------------------------------------------------- validation
def _range(name: str, value, lo: float = -np.inf, hi: float = np.inf) -> Tuple[float, float]:
    if (not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2
            or not all(isinstance(v, (int, float)) for v in value)):
        raise ValueError(f'{name} must be a (min, max) pair of numbers, got {value!r}')
    a, b = float(value[0]), float(value[1])
    if not lo <= a <= b <= hi:
        raise ValueError(f'{name} must satisfy {lo} <= min <= max <= {hi}, got {value!r}')
    return a, b


def _number(name: str, value, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueError(f'{name} must be a number in [{lo}, {hi}], got {value!r}')
    return float(value)


def _resolve(preset: str, overrides: Dict[str, Any]) -> Dict[str, Any]:
    """Merge ``overrides`` into ``preset`` and validate every value."""
    if preset not in PRESETS:
        raise ValueError(f'unknown TextGuidanceAug preset {preset!r}; '
                         f'expected one of {sorted(PRESETS)}')
    unknown = sorted(set(overrides) - set(PRESETS[preset]))
    if unknown:
        raise ValueError(f'unknown TextGuidanceAug argument(s) {unknown}; '
                         f'valid: preset, channel_order, {sorted(PRESETS[preset])}')
    p = dict(copy.deepcopy(PRESETS[preset]), **overrides)

    for name in ('some_of', 'crop_tb', 'crop_lr', 'sharpen_lightness', 'solarize_threshold',
                 'color_jitter_p', 'gray_p', 'border_mode'):
        if p[name] is None:
            raise ValueError(f'{name} cannot be None')
    n = p['some_of']
    if isinstance(n, int) and not isinstance(n, bool):
        n = (n, n)
    if (not isinstance(n, Sequence) or len(n) != 2 or not isinstance(n[0], int) or n[0] < 0
            or not (n[1] is None or (isinstance(n[1], int) and n[1] >= n[0]))):
        raise ValueError(f'some_of must be an int or (min, max|None) with 0 <= min <= max, '
                         f'got {p["some_of"]!r}')
    p['some_of'] = tuple(n)
    if p['contrast'] is not None:
        p['contrast'] = _range('contrast', p['contrast'], 0.0)
    if p['blur_sigma'] is not None:
        p['blur_sigma'] = _range('blur_sigma', p['blur_sigma'], 0.0)
    p['crop_tb'] = _number('crop_tb', p['crop_tb'], 0.0, 0.49)
    p['crop_lr'] = _number('crop_lr', p['crop_lr'], 0.0, 0.49)
    if p['sharpen_alpha'] is not None:
        p['sharpen_alpha'] = _range('sharpen_alpha', p['sharpen_alpha'], 0.0, 1.0)
    p['sharpen_lightness'] = _range('sharpen_lightness', p['sharpen_lightness'], 0.0)
    if p['rotate'] is not None:
        r = p['rotate']
        p['rotate'] = (_range('rotate', r, -180, 180) if isinstance(r, Sequence) else
                       (-_number('rotate', r, 0, 180), _number('rotate', r, 0, 180)))
    if p['piecewise_scale'] is not None:
        p['piecewise_scale'] = _range('piecewise_scale', p['piecewise_scale'], 0.0, 0.5)
    if p['perspective_scale'] is not None:
        p['perspective_scale'] = _range('perspective_scale', p['perspective_scale'], 0.0, 0.5)
    if p['solarize_p'] is not None:
        p['solarize_p'] = _number('solarize_p', p['solarize_p'], 0.0, 1.0)
    p['solarize_threshold'] = _range('solarize_threshold', p['solarize_threshold'], 0, 255)
    if p['gray_alpha'] is not None:
        p['gray_alpha'] = _range('gray_alpha', p['gray_alpha'], 0.0, 1.0)
    if p['color_jitter'] is not None:
        cj = p['color_jitter']
        if not isinstance(cj, Sequence) or len(cj) != 4:
            raise ValueError('color_jitter must be (brightness, contrast, saturation, hue), '
                             f'got {cj!r}')
        b, c, s = (_number(f'color_jitter[{i}]', v, 0.0, 10.0) for i, v in enumerate(cj[:3]))
        p['color_jitter'] = (b, c, s, _number('color_jitter[3] (hue)', cj[3], 0.0, 0.5))
    p['color_jitter_p'] = _number('color_jitter_p', p['color_jitter_p'], 0.0, 1.0)
    p['gray_p'] = _number('gray_p', p['gray_p'], 0.0, 1.0)
    if p['border_mode'] not in ('edge', 'constant'):
        raise ValueError(f"border_mode must be 'edge' or 'constant', got {p['border_mode']!r}")
    return p


@register_transform(scopes=('mmpretrain', 'mmocr'))
class TextGuidanceAug(BaseTransform):
    """LMIM's guidance-view augmentation for text crops.

    Applies ``SomeOf(n)`` (random order) of the imgaug ops LinearContrast, GaussianBlur,
    Crop, Sharpen, Rotate, PiecewiseAffine, PerspectiveTransform, Solarize, Grayscale, then
    torchvision ``ColorJitter`` with probability ``color_jitter_p`` and ``RandomGrayscale``
    with probability ``gray_p`` (torchvision semantics, as in the official LMIM code).

    Required keys: ``img`` (``(H, W, 3)`` uint8, any size). Modified keys: ``img``,
    ``img_shape``. The output is uint8 with the same channel order and **the same H x W as
    the input**: the crop is resized back to the input size (imgaug ``keep_size=True``), and
    Rotate / PiecewiseAffine / PerspectiveTransform keep the size too. Apply it before the
    resize to 32x128.

    Presets (``PRESETS``; ``n`` = number of imgaug ops, out of those not set to ``None``):

    ===================  ==============  ==================  ==================
    parameter            weak            medium (LMIM)       strong
    ===================  ==============  ==================  ==================
    some_of              (1, 2)          (3, None) = 3..9    (4, None) = 4..9
    contrast             (0.75, 1.25)    (0.5, 1.5)          (0.4, 1.6)
    blur_sigma           (0.2, 0.8)      (0.5, 1.5)          (0.5, 2.0)
    crop_tb / crop_lr    0.05 / 0.01     0.1 / 0.02          0.15 / 0.04
    sharpen_alpha        (0, 0.3)        (0, 0.5)            (0.2, 0.7)
    sharpen_lightness    (0.9, 1.1)      (0.8, 1.2)          (0.7, 1.3)
    rotate (deg, +-)     5               15                  25
    piecewise_scale      None (off)      (0.02, 0.03)        (0.03, 0.05)
    perspective_scale    (0.01, 0.02)    (0.02, 0.05)        (0.04, 0.08)
    solarize_p           None (off)      0.5                 1.0
    solarize_threshold   (64, 192)       (64, 192)           (64, 192)
    gray_alpha           (0, 0.5)        (0, 1)              (0.5, 1)
    color_jitter         (.2,.2,.1,.05)  (.4, .4, .2, .1)    (.6, .6, .4, .2)
    color_jitter_p       0.5             0.8                 0.9
    gray_p               0.1             0.2                 0.3
    border_mode          'edge'          'edge'              'edge'
    ===================  ==============  ==================  ==================

    Args:
        preset (str): ``'weak'``, ``'medium'`` (default, LMIM's) or ``'strong'``.
        channel_order (str): Channel order of ``results['img']``: ``'rgb'`` (default, as
            produced by ``LoadTextImage``) or ``'bgr'``; Grayscale / ColorJitter work in RGB,
            so a BGR image is flipped to RGB and back.
        **overrides: Any key of the presets, replacing the preset's value:

            - ``some_of``: int or ``(min, max)``; ``max=None`` means all enabled ops.
            - ``contrast``: LinearContrast factor range.
            - ``blur_sigma``: GaussianBlur sigma range (pixels).
            - ``crop_tb`` / ``crop_lr``: max crop fraction per side, top/bottom and
              left/right (always on; set both to 0 to disable).
            - ``sharpen_alpha`` / ``sharpen_lightness``: imgaug Sharpen ranges.
            - ``rotate``: max degrees ``r`` (-> ``(-r, r)``) or a ``(min, max)`` pair.
            - ``piecewise_scale``: PiecewiseAffine ``scale`` range (4x4 grid).
            - ``perspective_scale``: PerspectiveTransform ``scale`` range.
            - ``solarize_p`` / ``solarize_threshold``: Solarize probability (when selected)
              and threshold range.
            - ``gray_alpha``: imgaug Grayscale blend-factor range.
            - ``color_jitter``: torchvision ``(brightness, contrast, saturation, hue)``.
            - ``color_jitter_p`` / ``gray_p``: probabilities of ColorJitter and
              RandomGrayscale.
            - ``border_mode``: ``'edge'`` or ``'constant'`` (black) fill for Rotate,
              PiecewiseAffine and PerspectiveTransform.

            The op parameters ``contrast``, ``blur_sigma``, ``sharpen_alpha``, ``rotate``,
            ``piecewise_scale``, ``perspective_scale``, ``solarize_p``, ``gray_alpha`` and
            ``color_jitter`` may be ``None`` to drop that op. An unknown preset or argument,
            or an invalid value, raises ``ValueError`` naming it.

    Randomness: both random sources are derived per call from the global RNGs that mmengine
    seeds (``randomness=dict(seed=...)`` and its per-worker ``worker_init_fn``): the imgaug
    pipeline is re-seeded with ``np.random.randint(2**31)`` (numpy's global RNG) before every
    image, and the torchvision ops draw from torch's global RNG. Same numpy + torch seeds
    give the same output; imgaug's own global RNG is never used.

    The imgaug / torchvision pipelines are built once in ``__init__``. imgaug 0.4.0's
    ``SomeOf`` uses ``np.bool`` (gone in numpy >= 1.24), so a subclass replaces that one
    method; all other ops run unchanged on numpy 1.26.
    """

    def __init__(self, preset: str = 'medium', channel_order: str = 'rgb', **overrides):
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.preset = preset
        self.channel_order = channel_order
        self.params = _resolve(preset, overrides)
        self._iaa = self._build_imgaug(self.params)
        self._color = self._build_color(self.params)

    # ----------------------------------------------------------------- builders
    @staticmethod
    def _build_imgaug(p: Dict[str, Any]) -> Optional[iaa.Augmenter]:
        edge = p['border_mode'] == 'edge'
        tb, lr = p['crop_tb'], p['crop_lr']
        ops = []
        if p['contrast'] is not None:
            ops.append(iaa.LinearContrast(p['contrast']))
        if p['blur_sigma'] is not None:
            ops.append(iaa.GaussianBlur(sigma=p['blur_sigma']))
        ops.append(iaa.Crop(percent=((0, tb), (0, lr), (0, tb), (0, lr)), keep_size=True))
        if p['sharpen_alpha'] is not None:
            ops.append(iaa.Sharpen(alpha=p['sharpen_alpha'], lightness=p['sharpen_lightness']))
        if p['rotate'] is not None:
            ops.append(iaa.Rotate(p['rotate'], mode='edge' if edge else 'constant'))
        if p['piecewise_scale'] is not None:
            ops.append(iaa.PiecewiseAffine(scale=p['piecewise_scale'],
                                           mode='edge' if edge else 'constant'))
        if p['perspective_scale'] is not None:
            ops.append(iaa.PerspectiveTransform(scale=p['perspective_scale'], keep_size=True,
                                                mode='replicate' if edge else 'constant'))
        if p['solarize_p'] is not None:
            ops.append(iaa.Solarize(p['solarize_p'], threshold=p['solarize_threshold']))
        if p['gray_alpha'] is not None:
            ops.append(iaa.Grayscale(alpha=p['gray_alpha']))
        lo, hi = p['some_of']
        if hi == 0:
            return None
        return _SomeOf((min(lo, len(ops)), None if hi is None else min(hi, len(ops))), ops,
                       random_order=True)

    @staticmethod
    def _build_color(p: Dict[str, Any]) -> tvt.Compose:
        ops = []
        if p['color_jitter'] is not None and p['color_jitter_p'] > 0:
            ops.append(tvt.RandomApply([tvt.ColorJitter(*p['color_jitter'])],
                                       p=p['color_jitter_p']))
        if p['gray_p'] > 0:
            ops.append(tvt.RandomGrayscale(p=p['gray_p']))  # keeps 3 channels for RGB input
        return tvt.Compose(ops)

    # ---------------------------------------------------------------- transform
    def transform(self, results: dict) -> dict:
        img = results['img']
        if (not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3
                or img.shape[2] != 3):
            desc = (f'{img.dtype} {img.shape}' if isinstance(img, np.ndarray) else type(img))
            raise ValueError(f'TextGuidanceAug expects an (H, W, 3) uint8 image, got {desc}')
        if self.channel_order == 'bgr':
            img = img[..., ::-1]
        img = np.ascontiguousarray(img)
        if self._iaa is not None:
            self._iaa.seed_(int(np.random.randint(2**31)))
            img = self._iaa.augment_image(img)
        if self._color.transforms:
            img = np.array(self._color(Image.fromarray(img)), dtype=np.uint8)
        if self.channel_order == 'bgr':
            img = np.ascontiguousarray(img[..., ::-1])
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        diff = {k: v for k, v in self.params.items()
                if v != _resolve(self.preset, {})[k]}
        extra = ''.join(f', {k}={v!r}' for k, v in diff.items())
        return (f'{self.__class__.__name__}(preset={self.preset!r}, '
                f'channel_order={self.channel_order!r}{extra})')
