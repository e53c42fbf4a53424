"""The guidance view with imgaug and torchvision, as the official LMIM code builds it.

The reference that :class:`~mnsp_mm.datasets.TextGuidanceAug` (OpenCV / NumPy ops) is
tested and timed against (``tests/test_guidance_aug.py``, ``tools/benchmark.py``): the same
parameters (:func:`mnsp_mm.datasets.guidance.resolve_preset`) put into the imgaug augmenters
of ``lmim_pretrain/datasets/lmdb_dataset.py``, then the official torchvision
``Resize((32, 128), interpolation=3)``, ``RandomApply([ColorJitter], p)`` and
``RandomGrayscale(p)``. Not used for training: it is about six times slower.
"""
import warnings
from typing import Any, Callable, Dict, List, Tuple

import imgaug.augmenters as iaa
import numpy as np
from PIL import Image
from torchvision import transforms as tvt

# scikit-image >= 0.26 deprecates PiecewiseAffineTransform.estimate, which imgaug 0.4.0 calls
# once per image; the call still works, so silence only that message coming from imgaug.
warnings.filterwarnings('ignore', message=r'`estimate` is deprecated', category=FutureWarning,
                        module=r'imgaug\.')


class SomeOf(iaa.SomeOf):
    """``iaa.SomeOf`` without imgaug 0.4.0's ``np.bool`` (removed in numpy >= 1.24)."""

    # imgaug 0.4.0's SomeOf._get_augmenter_active with dtype=bool instead of np.bool.
    def _get_augmenter_active(self, nb_rows, random_state):
        nn = [min(n, len(self)) for n in self._get_n(nb_rows, random_state)]
        active = np.zeros((nb_rows, len(self)), dtype=bool)
        for row, n_true in enumerate(nn):
            active[row, :n_true] = True
        for row in active:
            random_state.shuffle(row)
        return active


def imgaug_ops(p: Dict[str, Any]) -> List[Tuple[str, iaa.Augmenter]]:
    """``(name, augmenter)`` of every enabled op, named as ``guidance.OP_PARAMS``."""
    out = []
    if p['contrast'] is not None:
        out.append(('contrast', iaa.LinearContrast(p['contrast'])))
    if p['blur_sigma'] is not None:
        out.append(('blur', iaa.GaussianBlur(p['blur_sigma'])))
    if p['crop_tb'] is not None:
        tb = (0, p['crop_tb'])
        out.append(('crop_tb', iaa.Crop(percent=(tb, (0, 0.0), tb, (0, 0.0)), keep_size=True)))
    if p['crop_lr'] is not None:
        lr = (0, p['crop_lr'])
        out.append(('crop_lr', iaa.Crop(percent=((0, 0.0), lr, (0, 0.0), lr), keep_size=True)))
    if p['sharpen_alpha'] is not None:
        out.append(('sharpen', iaa.Sharpen(alpha=p['sharpen_alpha'],
                                           lightness=p['sharpen_lightness'])))
    if p['rotate'] is not None:
        out.append(('rotate', iaa.Rotate(p['rotate'], fit_output=True)))
    if p['piecewise_scale'] is not None:
        out.append(('piecewise', iaa.PiecewiseAffine(
            scale=p['piecewise_scale'], nb_rows=p['piecewise_grid'],
            nb_cols=p['piecewise_grid'], mode='edge')))
    if p['perspective_scale'] is not None:
        out.append(('perspective', iaa.PerspectiveTransform(scale=p['perspective_scale'])))
    if p['solarize_p'] is not None:
        out.append(('solarize', iaa.Solarize(p['solarize_p'], threshold=p['solarize_threshold'],
                                             invert_above_threshold=p['solarize_above_p'],
                                             per_channel=False)))
    if p['gray_alpha'] is not None:
        out.append(('grayscale', iaa.Grayscale(alpha=p['gray_alpha'])))
    return out


def imgaug_pipeline(p: Dict[str, Any], scale=(128, 32)) -> Callable[[np.ndarray], np.ndarray]:
    """``(H, W, 3)`` uint8 RGB -> the official guidance view as uint8 ``scale`` (w, h).

    imgaug is re-seeded from numpy's global RNG per image (its own global RNG is never
    used); the torchvision ops draw from torch's.
    """
    lo, hi = p['some_of']
    ops = [aug for _, aug in imgaug_ops(p)]
    some_of = SomeOf((lo, hi), ops, random_order=True)
    color = []
    if p['color_jitter'] is not None:
        color.append(tvt.RandomApply([tvt.ColorJitter(*p['color_jitter'])],
                                     p=p['color_jitter_p']))
    color.append(tvt.RandomGrayscale(p=p['gray_p']))
    color = tvt.Compose([tvt.Resize(scale[::-1], interpolation=3), *color])

    def run(img: np.ndarray) -> np.ndarray:
        some_of.seed_(int(np.random.randint(2**31)))
        return np.asarray(color(Image.fromarray(some_of.augment_image(img))), np.uint8)

    return run
