"""LMIM's guidance-view augmentation as an mmpretrain / mmocr transform.

LMIM feeds the shared encoder two views of every text crop: the masked view (resize +
normalise only) and an unmasked *guidance view* that is heavily augmented.
:class:`TextGuidanceAug` produces the guidance view from the decoded crop, at any size, and
resizes it to 32x128 itself (between the geometric and the colour ops, where the official
code resizes)::

    dict(type='MultiView', num_views=[1, 1], transforms=[
        [dict(type='Resize', scale=(128, 32), keep_ratio=False, backend='pillow',
              interpolation='bicubic')],
        [dict(type='TextGuidanceAug', preset='official')]])

``preset='official'`` is the official LMIM pipeline (``lmim_pretrain/datasets/
lmdb_dataset.py``) op for op: imgaug ``SomeOf((3, None), random_order=True)`` over ten ops,
PIL bicubic resize to 32x128, torchvision ``ColorJitter(0.4, 0.4, 0.2, 0.1)`` with p=0.8 and
``RandomGrayscale(0.2)``. The imgaug ops run as OpenCV / NumPy re-implementations
(:mod:`.guidance_ops`, about six times cheaper on 32x128 crops, tested against imgaug); the
ops' parameters are drawn with the distributions imgaug draws them with.
"""
import copy
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image
from torchvision import transforms as tvt

from ..registry import register_transform
from . import guidance_ops as ops
from .guidance_presets import OP_PARAMS, PRESETS

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


_RANGES = dict(contrast=(0.0, np.inf), blur_sigma=(0.0, np.inf), sharpen_alpha=(0.0, 1.0),
               sharpen_lightness=(0.0, np.inf), piecewise_scale=(0.0, 0.5),
               perspective_scale=(0.0, 0.5), solarize_threshold=(0, 256),
               gray_alpha=(0.0, 1.0))
_NUMBERS = dict(crop_tb=(0.0, 0.49), crop_lr=(0.0, 0.49), solarize_p=(0.0, 1.0),
                solarize_above_p=(0.0, 1.0), color_jitter_p=(0.0, 1.0), gray_p=(0.0, 1.0))


def resolve_preset(preset: str, overrides: Dict[str, Any]) -> Dict[str, Any]:
    """``PRESETS[preset]`` with ``overrides`` merged in, every value validated and normalised
    (ranges as float pairs, ``rotate`` as a pair); raises ``ValueError`` naming a bad one."""
    if preset not in PRESETS:
        raise ValueError(f'unknown TextGuidanceAug preset {preset!r}; '
                         f'expected one of {sorted(PRESETS)}')
    unknown = sorted(set(overrides) - set(PRESETS[preset]))
    if unknown:
        raise ValueError(f'unknown TextGuidanceAug argument(s) {unknown}; '
                         f'valid: preset, scale, channel_order, {sorted(PRESETS[preset])}')
    p = dict(copy.deepcopy(PRESETS[preset]), **overrides)
    optional = set(OP_PARAMS.values()) | {'color_jitter'}
    for name, value in p.items():
        if value is None and name not in optional:
            raise ValueError(f'{name} cannot be None (only {sorted(optional)} can, to drop '
                             'that op)')
    n = p['some_of']
    if isinstance(n, int) and not isinstance(n, bool):
        n = (n, n)
    if (not isinstance(n, Sequence) or len(n) != 2 or not isinstance(n[0], int) or n[0] < 0
            or not (n[1] is None or (isinstance(n[1], int) and n[1] >= n[0]))):
        raise ValueError(f'some_of must be an int or (min, max|None) with 0 <= min <= max, '
                         f'got {p["some_of"]!r}')
    p['some_of'] = tuple(n)
    for name, (lo, hi) in _RANGES.items():
        if p[name] is not None:
            p[name] = _range(name, p[name], lo, hi)
    for name, (lo, hi) in _NUMBERS.items():
        if p[name] is not None:
            p[name] = _number(name, p[name], lo, hi)
    if p['rotate'] is not None:
        r = p['rotate']
        p['rotate'] = (_range('rotate', r, -180, 180) if isinstance(r, Sequence) else
                       (-_number('rotate', r, 0, 180), _number('rotate', r, 0, 180)))
    g = _range('piecewise_grid', p['piecewise_grid'], 2, 64)
    if g != tuple(int(v) for v in g):
        raise ValueError(f'piecewise_grid must be a (min, max) pair of integers >= 2, '
                         f'got {p["piecewise_grid"]!r}')
    p['piecewise_grid'] = tuple(int(v) for v in g)
    if p['color_jitter'] is not None:
        cj = p['color_jitter']
        if not isinstance(cj, Sequence) or len(cj) != 4:
            raise ValueError('color_jitter must be (brightness, contrast, saturation, hue), '
                             f'got {cj!r}')
        b, c, s = (_number(f'color_jitter[{i}]', v, 0.0, 10.0) for i, v in enumerate(cj[:3]))
        p['color_jitter'] = (b, c, s, _number('color_jitter[3] (hue)', cj[3], 0.0, 0.5))
    return p


# ------------------------------------------------------------------------ the ops
class GuidanceOp:
    """One op of the ``SomeOf``: draws its parameters as imgaug does, then applies them.

    Args:
        name: a key of :data:`OP_PARAMS`.
        sample: ``(H, W) -> kwargs`` drawn from numpy's global RNG.
        apply: ``(img, **kwargs) -> img``, a function of :mod:`.guidance_ops`.
    """

    def __init__(self, name: str, sample: Callable[[Tuple[int, int]], dict],
                 apply: Callable[..., np.ndarray]):
        self.name, self.sample, self.apply = name, sample, apply

    def __call__(self, img: np.ndarray) -> np.ndarray:
        return self.apply(img, **self.sample(img.shape[:2]))

    def __repr__(self) -> str:
        return f'GuidanceOp({self.name})'


def _uniform(lo_hi: Tuple[float, float]) -> float:
    return float(np.random.uniform(*lo_hi))


def _crop_sampler(frac: float, vertical: bool):
    """imgaug ``Crop(percent=...)``: each of the two sides ``round(size * U(0, frac))``."""
    def sample(hw):
        size = np.float32(hw[0] if vertical else hw[1])
        a, b = (int(np.round(size * np.float32(np.random.uniform(0, frac)))) for _ in range(2))
        return dict(top=a, bottom=b, right=0, left=0) if vertical else \
            dict(top=0, bottom=0, right=a, left=b)
    return sample


def _piecewise_sampler(scale: Tuple[float, float], grid: Tuple[int, int]):
    """imgaug ``PiecewiseAffine``: rows, cols ~ U{grid}; one scale per image, then
    ``N(0, scale)`` displacements per control point and axis."""
    def sample(hw):
        rows, cols = (int(np.random.randint(grid[0], grid[1] + 1)) for _ in range(2))
        s = _uniform(scale)
        return dict(rows=rows, cols=cols,
                    jitter=np.random.normal(0, s, (rows * cols, 2)).astype(np.float32))
    return sample


def _perspective_sampler(scale: Tuple[float, float]):
    """imgaug ``PerspectiveTransform``: one scale per image, ``N(0, scale)`` per corner."""
    def sample(hw):
        return dict(jitter=np.random.normal(0, _uniform(scale), (4, 2)).astype(np.float32))
    return sample


def _solarize_sampler(p: float, threshold: Tuple[float, float], above_p: float):
    """imgaug ``Solarize(p, threshold, invert_above_threshold)``; not firing = identity."""
    def sample(hw):
        fire = np.random.uniform() < p
        above = bool(np.random.uniform() < above_p)
        # not firing: inverting the values >= 256 is no change
        return dict(threshold=_uniform(threshold), above=above) if fire else \
            dict(threshold=256.0, above=True)
    return sample


def build_ops(p: Dict[str, Any]) -> List[GuidanceOp]:
    """The ``SomeOf`` members of resolved parameters ``p``, in the official code's order."""
    out = []
    if p['contrast'] is not None:
        out.append(GuidanceOp('contrast', lambda hw: dict(alpha=_uniform(p['contrast'])),
                              ops.linear_contrast))
    if p['blur_sigma'] is not None:
        out.append(GuidanceOp('blur', lambda hw: dict(sigma=_uniform(p['blur_sigma'])),
                              ops.gaussian_blur))
    if p['crop_tb'] is not None:
        out.append(GuidanceOp('crop_tb', _crop_sampler(p['crop_tb'], True), ops.crop))
    if p['crop_lr'] is not None:
        out.append(GuidanceOp('crop_lr', _crop_sampler(p['crop_lr'], False), ops.crop))
    if p['sharpen_alpha'] is not None:
        out.append(GuidanceOp('sharpen', lambda hw: dict(
            alpha=_uniform(p['sharpen_alpha']), lightness=_uniform(p['sharpen_lightness'])),
            ops.sharpen))
    if p['rotate'] is not None:
        out.append(GuidanceOp('rotate', lambda hw: dict(degrees=_uniform(p['rotate'])),
                              ops.rotate))
    if p['piecewise_scale'] is not None:
        out.append(GuidanceOp('piecewise', _piecewise_sampler(p['piecewise_scale'],
                                                              p['piecewise_grid']),
                              ops.piecewise_affine))
    if p['perspective_scale'] is not None:
        out.append(GuidanceOp('perspective', _perspective_sampler(p['perspective_scale']),
                              ops.perspective))
    if p['solarize_p'] is not None:
        out.append(GuidanceOp('solarize', _solarize_sampler(
            p['solarize_p'], p['solarize_threshold'], p['solarize_above_p']), ops.solarize))
    if p['gray_alpha'] is not None:
        out.append(GuidanceOp('grayscale', lambda hw: dict(alpha=_uniform(p['gray_alpha'])),
                              ops.grayscale))
    return out


@register_transform(scopes=('mmpretrain', 'mmocr'))
class TextGuidanceAug(BaseTransform):
    """LMIM's guidance-view augmentation for text crops.

    Per image: ``n`` of the ops (``n`` uniform in ``some_of``, a uniformly random subset in
    uniformly random order, as imgaug's ``SomeOf(random_order=True)``), then a PIL bicubic
    resize to ``scale``, then torchvision ``RandomApply([ColorJitter], color_jitter_p)`` and
    ``RandomGrayscale(gray_p)``. The ops: LinearContrast, GaussianBlur, a top/bottom crop, a
    left/right crop (both resized back to the size they got), Sharpen, Rotate (the canvas
    grows to fit, black corners), PiecewiseAffine (edge border), PerspectiveTransform
    (black border, resized back), Solarize and Grayscale.

    Required keys: ``img`` (``(H, W, 3)`` uint8, any size). Modified keys: ``img``,
    ``img_shape``. The output is uint8 in the input's channel order, ``scale`` sized.

    Presets (:data:`PRESETS`; ``n`` = number of ops out of those not ``None``):

    ===================  ================  ================  ================
    parameter            official          weak              strong
    ===================  ================  ================  ================
    some_of              (3, None) = 3-10  (1, 3)            (5, None) = 5-10
    contrast             (0.5, 1.0)        (0.75, 1.0)       (0.3, 1.0)
    blur_sigma           (0.5, 1.5)        (0.2, 0.8)        (0.5, 2.0)
    crop_tb / crop_lr    0.1 / 0.02        0.05 / 0.01       0.15 / 0.04
    sharpen_alpha        (0, 0.5)          (0, 0.25)         (0.2, 0.7)
    sharpen_lightness    (0, 0.5)          (0.5, 1.0)        (0, 0.5)
    rotate (deg, +-)     15                5                 25
    piecewise_scale      (0.03, 0.05)      (0.01, 0.02)      (0.04, 0.07)
    piecewise_grid       (2, 4)            (2, 4)            (2, 4)
    perspective_scale    (0.02, 0.06)      (0.01, 0.03)      (0.04, 0.08)
    solarize_p           1.0               None (off)        1.0
    solarize_threshold   (32, 128)         (32, 128)         (32, 128)
    solarize_above_p     0.5               0.5               0.5
    gray_alpha           (0, 1)            (0, 0.5)          (0.5, 1)
    color_jitter         (.4, .4, .2, .1)  (.2, .2, .1, .05) (.6, .6, .4, .2)
    color_jitter_p       0.8               0.5               0.9
    gray_p               0.2               0.1               0.3
    ===================  ================  ================  ================

    Args:
        preset (str): ``'official'`` (default), ``'weak'`` or ``'strong'``.
        scale (tuple | None): output ``(w, h)``, default ``(128, 32)``; ``None`` keeps the
            size the ops produce (Rotate enlarges the canvas).
        channel_order (str): ``'rgb'`` (default, as ``LoadTextImage`` gives) or ``'bgr'``;
            the ops work in RGB (Grayscale, ColorJitter), a BGR image is flipped and back.
        **overrides: any key of the presets, replacing the preset's value:

            - ``some_of``: int or ``(min, max)``; ``max=None`` means all enabled ops.
            - ``contrast``: LinearContrast factor range (``127 + a * (v - 127)``).
            - ``blur_sigma``: GaussianBlur sigma range (pixels).
            - ``crop_tb`` / ``crop_lr``: max crop fraction of each side, top and bottom /
              left and right (two ops).
            - ``sharpen_alpha`` / ``sharpen_lightness``: imgaug Sharpen ranges.
            - ``rotate``: max degrees ``r`` (-> ``(-r, r)``) or a ``(min, max)`` pair.
            - ``piecewise_scale`` / ``piecewise_grid``: PiecewiseAffine displacement std (a
              fraction of H and W) and the range of control points per axis.
            - ``perspective_scale``: PerspectiveTransform corner-jitter std range.
            - ``solarize_p`` / ``solarize_threshold`` / ``solarize_above_p``: Solarize's
              probability when selected, threshold range, probability of inverting above
              (else below) the threshold.
            - ``gray_alpha``: Grayscale blend-factor range.
            - ``color_jitter``: torchvision ``(brightness, contrast, saturation, hue)``.
            - ``color_jitter_p`` / ``gray_p``: probabilities of ColorJitter and
              RandomGrayscale.

            ``contrast``, ``blur_sigma``, ``crop_tb``, ``crop_lr``, ``sharpen_alpha``,
            ``rotate``, ``piecewise_scale``, ``perspective_scale``, ``solarize_p``,
            ``gray_alpha`` and ``color_jitter`` may be ``None`` to drop that op. An unknown
            preset or argument, or an invalid value, raises ``ValueError`` naming it.

    Randomness: the ops draw from numpy's global RNG, the torchvision ops from torch's, both
    seeded by mmengine (``randomness=dict(seed=...)`` and its per-worker
    ``worker_init_fn``). Same numpy + torch seeds give the same output.
    """

    def __init__(self, preset: str = 'official', scale: Optional[Sequence[int]] = (128, 32),
                 channel_order: str = 'rgb', **overrides):
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if scale is not None and (not isinstance(scale, Sequence) or len(scale) != 2 or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in scale)):
            raise ValueError(f'scale must be None or (w, h) positive ints, got {scale!r}')
        self.preset = preset
        self.scale = None if scale is None else tuple(scale)
        self.channel_order = channel_order
        self.params = resolve_preset(preset, overrides)
        self.ops = build_ops(self.params)
        lo, hi = self.params['some_of']
        self.some_of = (min(lo, len(self.ops)), len(self.ops) if hi is None else
                        min(hi, len(self.ops)))
        p = self.params
        self.jitter = None if p['color_jitter'] is None or p['color_jitter_p'] == 0 else \
            tvt.RandomApply([tvt.ColorJitter(*p['color_jitter'])], p=p['color_jitter_p'])
        self.gray = tvt.RandomGrayscale(p=p['gray_p']) if p['gray_p'] > 0 else None

    def choose(self) -> List[GuidanceOp]:
        """The ops for one image, in the order they run (numpy's global RNG)."""
        lo, hi = self.some_of
        n = int(np.random.randint(lo, hi + 1))
        return [self.ops[i] for i in np.random.permutation(len(self.ops))[:n]]

    def transform(self, results: dict) -> dict:
        img = results['img']
        if (not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3
                or img.shape[2] != 3):
            desc = (f'{img.dtype} {img.shape}' if isinstance(img, np.ndarray) else type(img))
            raise ValueError(f'TextGuidanceAug expects an (H, W, 3) uint8 image, got {desc}')
        if self.channel_order == 'bgr':
            img = img[..., ::-1]
        img = np.ascontiguousarray(img)
        for op in self.choose():
            img = op(img)
        if self.scale is not None or self.jitter is not None or self.gray is not None:
            pil = Image.fromarray(img)
            if self.scale is not None and pil.size != self.scale:
                pil = pil.resize(self.scale, Image.BICUBIC)  # as torchvision Resize(interp=3)
            pil = self.jitter(pil) if self.jitter is not None else pil
            pil = self.gray(pil) if self.gray is not None else pil  # keeps 3 channels
            img = np.array(pil, dtype=np.uint8)  # writable (PIL buffers are read-only)
        if self.channel_order == 'bgr':
            img = img[..., ::-1]
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        default = resolve_preset(self.preset, {})
        extra = ''.join(f', {k}={v!r}' for k, v in self.params.items() if v != default[k])
        return (f'{self.__class__.__name__}(preset={self.preset!r}, scale={self.scale!r}, '
                f'channel_order={self.channel_order!r}{extra})')
