"""The guidance view's presets (``official``, ``weak``, ``strong``) and which parameter
switches off which op; :class:`~.guidance.TextGuidanceAug` reads them."""
from typing import Any, Dict

#: The presets: the single place where every parameter's default lives. An op whose
#: parameter is ``None`` is left out of the ``SomeOf``. ``official`` is the official LMIM
#: code's value of each; ``weak`` / ``strong`` are ablations (milder / harsher ranges, the
#: same ops, border modes and order semantics).
PRESETS: Dict[str, Dict[str, Any]] = {
    'official': dict(
        some_of=(3, None),            # SomeOf((3, None)): 3..10 of the 10 ops, random order
        contrast=(0.5, 1.0),          # LinearContrast((0.5, 1.0))
        blur_sigma=(0.5, 1.5),        # GaussianBlur((0.5, 1.5))
        crop_tb=0.1,                  # Crop(percent=((0, .1), 0, (0, .1), 0)), keep_size
        crop_lr=0.02,                 # Crop(percent=(0, (0, .02), 0, (0, .02))), keep_size
        sharpen_alpha=(0.0, 0.5),     # Sharpen(alpha=(0, .5), lightness=(0, .5))
        sharpen_lightness=(0.0, 0.5),
        rotate=15,                    # Rotate((-15, 15), fit_output=True), black border
        piecewise_scale=(0.03, 0.05),  # PiecewiseAffine(scale=(.03, .05), mode='edge'),
        piecewise_grid=(2, 4),        # nb_rows = nb_cols = (2, 4) (imgaug's default)
        perspective_scale=(0.02, 0.06),  # PerspectiveTransform(scale=(.02, .06)), black
        solarize_p=1.0,               # Solarize(1, threshold=(32, 128),
        solarize_threshold=(32, 128),  # invert_above_threshold=0.5)
        solarize_above_p=0.5,
        gray_alpha=(0.0, 1.0),        # Grayscale(alpha=(0, 1))
        color_jitter=(0.4, 0.4, 0.2, 0.1),  # RandomApply([ColorJitter(...)], p=0.8)
        color_jitter_p=0.8,
        gray_p=0.2,                   # RandomGrayscale(p=0.2)
    ),
    'weak': dict(
        some_of=(1, 3),
        contrast=(0.75, 1.0),
        blur_sigma=(0.2, 0.8),
        crop_tb=0.05,
        crop_lr=0.01,
        sharpen_alpha=(0.0, 0.25),
        sharpen_lightness=(0.5, 1.0),
        rotate=5,
        piecewise_scale=(0.01, 0.02),
        piecewise_grid=(2, 4),
        perspective_scale=(0.01, 0.03),
        solarize_p=None,
        solarize_threshold=(32, 128),
        solarize_above_p=0.5,
        gray_alpha=(0.0, 0.5),
        color_jitter=(0.2, 0.2, 0.1, 0.05),
        color_jitter_p=0.5,
        gray_p=0.1,
    ),
    'strong': dict(
        some_of=(5, None),
        contrast=(0.3, 1.0),
        blur_sigma=(0.5, 2.0),
        crop_tb=0.15,
        crop_lr=0.04,
        sharpen_alpha=(0.2, 0.7),
        sharpen_lightness=(0.0, 0.5),
        rotate=25,
        piecewise_scale=(0.04, 0.07),
        piecewise_grid=(2, 4),
        perspective_scale=(0.04, 0.08),
        solarize_p=1.0,
        solarize_threshold=(32, 128),
        solarize_above_p=0.5,
        gray_alpha=(0.5, 1.0),
        color_jitter=(0.6, 0.6, 0.4, 0.2),
        color_jitter_p=0.9,
        gray_p=0.3,
    ),
}

#: Parameters that may be ``None`` (the op is dropped), per op name.
OP_PARAMS = {'contrast': 'contrast', 'blur': 'blur_sigma', 'crop_tb': 'crop_tb',
             'crop_lr': 'crop_lr', 'sharpen': 'sharpen_alpha', 'rotate': 'rotate',
             'piecewise': 'piecewise_scale', 'perspective': 'perspective_scale',
             'solarize': 'solarize_p', 'grayscale': 'gray_alpha'}
