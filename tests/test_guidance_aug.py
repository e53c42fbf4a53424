"""TextGuidanceAug (LMIM's guidance view): the official preset, its ops against imgaug, the
sampled distributions, and the transform in mmpretrain / mmocr pipelines."""
import cv2
import imgaug.augmenters as iaa
import imgaug.parameters as iap
import numpy as np
import pytest
import torch
import torchvision.transforms.transforms as tvt_transforms
from mmengine.registry import DefaultScope

from mnsp_mm.datasets import guidance_ops as ops
from mnsp_mm.datasets.guidance import OP_PARAMS, PRESETS, TextGuidanceAug, resolve_preset
from mnsp_mm.datasets.guidance_reference import imgaug_ops, imgaug_pipeline
from mnsp_mm.datasets.synth import preset, render_sample

# skimage >= 0.26 deprecates PiecewiseAffineTransform.estimate, which imgaug 0.4.0 calls.
pytestmark = pytest.mark.filterwarnings('ignore::FutureWarning')

PRESET_NAMES = ('official', 'weak', 'strong')
OFFICIAL_ORDER = ['contrast', 'blur', 'crop_tb', 'crop_lr', 'sharpen', 'rotate', 'piecewise',
                  'perspective', 'solarize', 'grayscale']


def _text_img(h=32, w=128, seed=0):
    """A rendered text crop (the project's synthetic renderer), resized to h x w."""
    img = render_sample(seed, preset('default')).image
    return img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h),
                                                          interpolation=cv2.INTER_CUBIC)


def _seed(s):
    np.random.seed(s)
    torch.manual_seed(s)


# ------------------------------------------------------------------ the official preset
def test_official_preset_is_the_official_code():
    """Every value of lmim_pretrain/datasets/lmdb_dataset.py (LMIM, CVPR 2025)."""
    assert PRESETS['official'] == dict(
        some_of=(3, None), contrast=(0.5, 1.0), blur_sigma=(0.5, 1.5), crop_tb=0.1,
        crop_lr=0.02, sharpen_alpha=(0.0, 0.5), sharpen_lightness=(0.0, 0.5), rotate=15,
        piecewise_scale=(0.03, 0.05), piecewise_grid=(2, 4), perspective_scale=(0.02, 0.06),
        solarize_p=1.0, solarize_threshold=(32, 128), solarize_above_p=0.5,
        gray_alpha=(0.0, 1.0), color_jitter=(0.4, 0.4, 0.2, 0.1), color_jitter_p=0.8,
        gray_p=0.2)
    t = TextGuidanceAug()
    assert t.preset == 'official' and t.scale == (128, 32)
    assert [op.name for op in t.ops] == OFFICIAL_ORDER and t.some_of == (3, 10)
    jitter = t.jitter.transforms[0]
    assert t.jitter.p == 0.8 and t.gray.p == 0.2
    assert (jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue) == \
        ((0.6, 1.4), (0.6, 1.4), (0.8, 1.2), (-0.1, 0.1))
    # the imgaug reference is built from the same numbers, as the official code spells them
    ref = dict(imgaug_ops(resolve_preset('official', {})))
    assert list(ref) == OFFICIAL_ORDER
    assert isinstance(ref['rotate'], iaa.Affine) and ref['rotate'].fit_output
    assert ref['piecewise'].mode.value == 'edge' and ref['perspective'].keep_size
    assert all(set(PRESETS[p]) == set(PRESETS['official']) for p in PRESET_NAMES)


# ------------------------------------------------------------- each op against imgaug
class _Fixed(iap.StochasticParameter):
    """An imgaug parameter that returns given draws (to feed an op our parameters)."""

    def __init__(self, value):
        super().__init__()
        self.value = np.asarray(value, np.float32)

    def _draw_samples(self, size, random_state):
        return self.value.reshape(size)


def _imgaug_with(aug, jitter):
    aug.jitter = _Fixed(jitter)
    return aug


RNG = np.random.default_rng(0)
OP_CASES = [  # (name, ours, the imgaug augmenter with the same parameters, max |diff|)
    ('contrast', lambda x: ops.linear_contrast(x, 0.63), iaa.LinearContrast(0.63), 0),
    ('blur', lambda x: ops.gaussian_blur(x, 1.1), iaa.GaussianBlur(1.1), 0),
    ('blur_large', lambda x: ops.gaussian_blur(x, 3.6), iaa.GaussianBlur(3.6), 0),
    ('crop', lambda x: ops.crop(x, 4, 3, 2, 1), iaa.Crop(px=(4, 3, 2, 1), keep_size=True), 0),
    ('crop_all', lambda x: ops.crop(x, 30, 0, 30, 0), iaa.Crop(px=(30, 0, 30, 0)), 0),
    ('sharpen', lambda x: ops.sharpen(x, 0.3, 0.2), iaa.Sharpen(alpha=0.3, lightness=0.2), 0),
    ('rotate', lambda x: ops.rotate(x, -12.3), iaa.Rotate(-12.3, fit_output=True), 0),
    ('rotate_keep', lambda x: ops.rotate(x, 9.0, fit_output=False), iaa.Rotate(9.0), 0),
    *[(f'piecewise_{r}x{c}', (lambda x, r=r, c=c, j=j: ops.piecewise_affine(x, r, c, j)),
       _imgaug_with(iaa.PiecewiseAffine(scale=0.04, nb_rows=r, nb_cols=c, mode='edge'), j), 3)
      for r, c, j in [(r, c, RNG.normal(0, 0.04, (r * c, 2)).astype(np.float32))
                      for r, c in [(2, 2), (2, 4), (3, 3), (4, 4)]]],
    *[(f'perspective_{i}', (lambda x, j=j: ops.perspective(x, j)),
       _imgaug_with(iaa.PerspectiveTransform(scale=0.05), j), 0)
      for i, j in enumerate([RNG.normal(0, 0.05, (4, 2)).astype(np.float32),
                             np.float32([[.3, .1], [.4, 0], [.2, .3], [.1, .2]]),
                             np.float32([[.1, .49]] * 4),  # < 2 px high: spread apart
                             np.float32([[.499, .1]] * 4)])],  # < 2 px wide
    ('solarize_above', lambda x: ops.solarize(x, 70.6, True),
     iaa.Solarize(1, threshold=70.6, invert_above_threshold=True), 0),
    ('solarize_below', lambda x: ops.solarize(x, 100.2, False),
     iaa.Solarize(1, threshold=100.2, invert_above_threshold=False), 0),
    ('gray', lambda x: ops.grayscale(x, 0.4), iaa.Grayscale(alpha=0.4), 0),
    ('gray_full', lambda x: ops.grayscale(x, 1.0), iaa.Grayscale(alpha=1.0), 0),
]


@pytest.mark.parametrize('name,ours,ref,tol', OP_CASES, ids=[c[0] for c in OP_CASES])
@pytest.mark.parametrize('hw', [(32, 128), (47, 163)])
def test_op_equals_imgaug_for_the_same_parameters(name, ours, ref, tol, hw):
    img = _text_img(*hw, seed=3)
    expected = ref(image=img.copy())
    got = ours(img.copy())
    assert got.dtype == np.uint8 and got.shape == expected.shape, (got.shape, expected.shape)
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= tol and diff.mean() <= 0.1, (diff.max(), diff.mean())
    assert not np.array_equal(got, img)


def test_piecewise_cell_formula_equals_the_triangle_search():
    """The map written out per cell equals scipy's triangle search (scikit-image's way)
    for every grid imgaug draws; qhull's diagonals differ between grids."""
    seen_diagonals = set()
    for rows in (2, 3, 4):
        for cols in (2, 3, 4):
            for h, w in [(32, 128), (47, 163), (8, 300)]:
                src = ops._grid(h, w, rows, cols)
                dest = np.clip(src + RNG.normal(0, 0.05, src.shape) * (w, h), 0,
                               (w - 1, h - 1))
                diag = ops._cell_diagonals(h, w, rows, cols)
                assert diag is not None
                seen_diagonals |= set(diag.ravel().tolist())
                cells = ops._map_by_cells(h, w, diag, dest.astype(np.float32).reshape(
                    rows, cols, 2))
                assert np.abs(cells - ops._map_by_search(h, w, src, dest)).max() < 1e-3
    assert seen_diagonals == {True, False}


def test_piecewise_falls_back_to_the_triangle_search(monkeypatch):
    """A triangulation that is not half-cells (never seen) takes scipy's search."""
    img = _text_img(seed=2)
    jitter = RNG.normal(0, 0.04, (9, 2)).astype(np.float32)
    fast = ops.piecewise_affine(img, 3, 3, jitter)
    monkeypatch.setattr(ops, '_cell_diagonals', lambda *a: None)
    assert np.abs(ops.piecewise_affine(img, 3, 3, jitter).astype(int) - fast).max() <= 1


# ---------------------------------------------------------- sampled distributions
def _ks(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov statistic."""
    grid = np.sort(np.concatenate([a, b]))
    cdf = [np.searchsorted(np.sort(x), grid, side='right') / len(x) for x in (a, b)]
    return float(np.abs(cdf[0] - cdf[1]).max())


def _ours(op_name, n, hw=(40, 150)):
    op = {o.name: o for o in TextGuidanceAug().ops}[op_name]
    np.random.seed(1)
    return [op.sample(hw) for _ in range(n)]


def test_sampled_parameters_match_imgaug():
    """Our draws against imgaug's own parameter objects of the official pipeline."""
    ref = dict(imgaug_ops(resolve_preset('official', {})))
    rs = iap.iarandom.RNG(0)
    n = 3000

    def draws(param, size=n):
        return np.asarray(param.draw_samples((size, ), random_state=rs), np.float64)

    pairs = {
        'contrast': ([s['alpha'] for s in _ours('contrast', n)],
                     draws(ref['contrast'].params1d[0])),
        'blur': ([s['sigma'] for s in _ours('blur', n)], draws(ref['blur'].sigma)),
        'rotate': ([s['degrees'] for s in _ours('rotate', n)], draws(ref['rotate'].rotate)),
        'gray': ([s['alpha'] for s in _ours('grayscale', n)], draws(ref['grayscale'].alpha)),
        'solarize_threshold': ([s['threshold'] for s in _ours('solarize', n)],
                               draws(ref['solarize'].threshold)),
        'solarize_above': ([s['above'] for s in _ours('solarize', n)],
                           draws(ref['solarize'].invert_above_threshold)),
        # crops in pixels of a 40 x 150 crop, as imgaug rounds them
        'crop_top': ([s['top'] for s in _ours('crop_tb', n)],
                     np.round(40 * -draws(ref['crop_tb'].top))),
        'crop_left': ([s['left'] for s in _ours('crop_lr', n)],
                      np.round(150 * -draws(ref['crop_lr'].left))),
        'piecewise_rows': ([s['rows'] for s in _ours('piecewise', n)],
                           draws(ref['piecewise'].nb_rows)),
        # one std per image, then N(0, std): compare the pooled displacements
        'piecewise_jitter': (np.concatenate([s['jitter'].ravel()[:4]
                                             for s in _ours('piecewise', n)]),
                             np.concatenate([draws(ref['piecewise'].jitter, 4)
                                             for _ in range(n)])),
        'perspective_jitter': (np.concatenate([s['jitter'].ravel()
                                               for s in _ours('perspective', n)]),
                               np.concatenate([draws(ref['perspective'].jitter, 8)
                                               for _ in range(n)])),
    }
    sharpen = _ours('sharpen', n)
    gen = ref['sharpen'].matrix
    mats = [gen(np.zeros((4, 4, 3), np.uint8), 1, rs)[0] for _ in range(n)]
    pairs['sharpen_alpha'] = ([s['alpha'] for s in sharpen], [-m[0, 0] for m in mats])
    pairs['sharpen_centre'] = ([(1 - s['alpha']) + s['alpha'] * (8 + s['lightness'])
                                for s in sharpen], [m[1, 1] for m in mats])
    for name, (ours, theirs) in pairs.items():
        assert _ks(np.asarray(ours, np.float64), theirs) < 0.05, name


def test_each_op_fires_with_the_official_probability(monkeypatch):
    """SomeOf((3, None)) over 10 ops: n uniform on 3..10, so each op fires in 6.5 / 10 of
    the images; ColorJitter in 80%, RandomGrayscale in 20%, Solarize inverts above its
    threshold in half of its runs."""
    t = TextGuidanceAug()
    fired = {op.name: 0 for op in t.ops}
    counts, above = np.zeros(11), []
    for op in t.ops:
        def record(img, _name=op.name, **kw):
            fired[_name] += 1
            if _name == 'solarize':
                above.append(kw['above'])
            return img
        monkeypatch.setattr(op, 'apply', record)
    color = {'jitter': 0, 'gray': 0}

    def jitter_record(img):
        color['jitter'] += 1
        return img

    t.jitter.transforms = [jitter_record]
    real_gray = tvt_transforms.F.rgb_to_grayscale

    def gray_record(img, num_output_channels=1):
        color['gray'] += 1
        return real_gray(img, num_output_channels)

    monkeypatch.setattr(tvt_transforms.F, 'rgb_to_grayscale', gray_record)
    img = _text_img()
    n = 4000
    _seed(0)
    for _ in range(n):
        before = sum(fired.values())
        t(dict(img=img))
        counts[sum(fired.values()) - before] += 1
    assert counts[:3].sum() == 0
    assert np.allclose(counts[3:] / n, 1 / 8, atol=0.02), counts[3:] / n
    for name, k in fired.items():
        assert abs(k / n - 0.65) < 0.03, (name, k / n)
    assert abs(np.mean(above) - 0.5) < 0.03
    assert abs(color['jitter'] / n - 0.8) < 0.02 and abs(color['gray'] / n - 0.2) < 0.02


def test_whole_view_matches_the_imgaug_pipeline_statistically():
    """Same preset, our ops vs imgaug's: the views differ from the plain resize alike."""
    img = _text_img(40, 160, seed=1)
    plain = cv2.resize(img, (128, 32), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    stats = {}
    for name, run in [('ours', lambda x: TextGuidanceAug()(dict(img=x))['img']),
                      ('imgaug', imgaug_pipeline(resolve_preset('official', {})))]:
        _seed(5)
        outs = np.stack([run(img.copy()) for _ in range(150)]).astype(np.float32)
        assert outs.shape == (150, 32, 128, 3)
        d = np.abs(outs - plain).mean((1, 2, 3))
        stats[name] = (d.mean(), outs.mean(), outs.std())
    for a, b in zip(stats['ours'], stats['imgaug']):
        assert abs(a - b) < 0.1 * abs(b), stats


# -------------------------------------------------------------------- the transform
@pytest.mark.parametrize('preset_name', PRESET_NAMES)
@pytest.mark.parametrize('hw', [(32, 128), (40, 160)])
def test_output_shape_dtype(preset_name, hw):
    t = TextGuidanceAug(preset=preset_name)
    keep = TextGuidanceAug(preset=preset_name, scale=None, rotate=None)
    _seed(0)
    for i in range(5):
        img = _text_img(*hw, seed=i)
        out = t(dict(img=img.copy(), img_shape=hw, ori_shape=hw))
        assert out['img'].dtype == np.uint8 and out['img'].shape == (32, 128, 3)
        assert out['img_shape'] == (32, 128) and out['ori_shape'] == hw
        assert keep(dict(img=img.copy()))['img'].shape == img.shape


def _mean_abs_diff(preset_name, n=50):
    t = TextGuidanceAug(preset=preset_name)
    _seed(123)
    diffs, changed = [], 0
    for i in range(n):
        img = _text_img(seed=i)
        out = t(dict(img=img.copy()))['img']
        d = np.abs(out.astype(np.int16) - img.astype(np.int16))
        diffs.append(d.mean())
        changed += int(d.max() > 0)
    return float(np.mean(diffs)), changed


def test_strength_ordering():
    weak, _ = _mean_abs_diff('weak')
    official, official_changed = _mean_abs_diff('official')
    strong, _ = _mean_abs_diff('strong')
    assert official_changed == 50  # SomeOf(3+) always changes a crop
    assert weak < official < strong, (weak, official, strong)


def test_same_seed_same_output_different_seed_differs():
    img = _text_img(seed=3)

    def run(s, t=None):
        t = t or TextGuidanceAug()
        _seed(s)
        return [t(dict(img=img.copy()))['img'] for _ in range(4)]

    a, b = run(7), run(7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    t = TextGuidanceAug()
    run(99, t)  # state from earlier calls does not leak into later ones
    assert all(np.array_equal(x, y) for x, y in zip(a, run(7, t)))
    assert not any(np.array_equal(x, y) for x, y in zip(a, run(8)))
    # the torchvision part alone follows torch's RNG
    t_color = TextGuidanceAug(some_of=0, color_jitter_p=1.0, gray_p=0.0)
    np.random.seed(0)
    torch.manual_seed(1)
    x = t_color(dict(img=img.copy()))['img']
    np.random.seed(0)
    torch.manual_seed(2)
    assert not np.array_equal(x, t_color(dict(img=img.copy()))['img'])


def test_bgr_channel_order_mirrors_rgb():
    img = _text_img(seed=5)
    _seed(11)
    rgb = TextGuidanceAug()(dict(img=img.copy()))['img']
    _seed(11)
    bgr = TextGuidanceAug(channel_order='bgr')(dict(img=np.ascontiguousarray(img[..., ::-1])))
    assert np.array_equal(bgr['img'][..., ::-1], rgb)


def test_overrides_and_disabled_ops():
    t = TextGuidanceAug(preset='weak', rotate=(-3, 3), some_of=(2, None), color_jitter=None)
    assert t.params['rotate'] == (-3.0, 3.0) and t.some_of == (2, 9)
    assert 'rotate' in repr(t) and t.jitter is None
    assert [o.name for o in t.ops] == [n for n in OFFICIAL_ORDER if n != 'solarize']
    assert set(OP_PARAMS) == set(OFFICIAL_ORDER)
    # everything off, no resize -> identity
    ident = TextGuidanceAug(some_of=0, color_jitter=None, gray_p=0, scale=None)
    img = _text_img()
    assert np.array_equal(ident(dict(img=img.copy()))['img'], img)
    # resize only: PIL bicubic, as the official torchvision Resize(interpolation=3)
    from PIL import Image
    only_resize = TextGuidanceAug(some_of=0, color_jitter=None, gray_p=0, scale=(64, 16))
    assert np.array_equal(only_resize(dict(img=img.copy()))['img'],
                          np.asarray(Image.fromarray(img).resize((64, 16), Image.BICUBIC)))


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="'medium'"):
        TextGuidanceAug(preset='medium')
    with pytest.raises(ValueError, match='rotation'):
        TextGuidanceAug(rotation=10)
    with pytest.raises(ValueError, match='contrast'):
        TextGuidanceAug(contrast=(1.5, 0.5))
    with pytest.raises(ValueError, match='hue'):
        TextGuidanceAug(color_jitter=(0.4, 0.4, 0.2, 0.7))
    with pytest.raises(ValueError, match='piecewise_grid'):
        TextGuidanceAug(piecewise_grid=(2.5, 4))
    with pytest.raises(ValueError, match='solarize_threshold cannot be None'):
        TextGuidanceAug(solarize_threshold=None)
    with pytest.raises(ValueError, match='scale'):
        TextGuidanceAug(scale=(128, ))
    with pytest.raises(ValueError, match='channel_order'):
        TextGuidanceAug(channel_order='rgba')
    with pytest.raises(ValueError, match='uint8'):
        TextGuidanceAug()(dict(img=np.zeros((32, 128), np.uint8)))


def test_lmim_configs_use_the_official_views():
    from mmengine.config import Config
    for path, preset_name in [
            ('configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py', 'official'),
            ('configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-20e_union14m-u.py', 'official'),
            ('configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py', 'official'),
            ('configs/lmim/ablations/lmim_weak-aug.py', 'weak'),
            ('configs/lmim/ablations/lmim_strong-aug.py', 'strong')]:
        views = Config.fromfile(path).train_dataloader.dataset.pipeline[1].transforms
        assert views[0] == [dict(type='Resize', scale=(128, 32), keep_ratio=False,
                                 backend='pillow', interpolation='bicubic')], path
        assert views[1] == [dict(type='TextGuidanceAug', preset=preset_name,
                                 scale=(128, 32))], path


def test_multiview_pipeline_in_mmpretrain():
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmpretrain.registry import TRANSFORMS
    from PIL import Image
    cfg = Config.fromfile('configs/_base_/pretrain/lmim_pipeline.py')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([TRANSFORMS.build(c) for c in cfg.train_pipeline[1:]])
        _seed(0)
        for hw in [(32, 128), (45, 170)]:
            img = _text_img(*hw)
            inputs = pipeline(dict(img=img, img_shape=hw, ori_shape=hw))['inputs']
            assert isinstance(inputs, list) and len(inputs) == 2
            for x in inputs:
                assert isinstance(x, torch.Tensor) and x.dtype == torch.uint8
                assert tuple(x.shape) == (3, 32, 128)
            assert not torch.equal(inputs[0], inputs[1])
            # the masked view is the official PIL bicubic resize
            bicubic = np.asarray(Image.fromarray(img).resize((128, 32), Image.BICUBIC))
            assert np.array_equal(inputs[0].permute(1, 2, 0).numpy(), bicubic)


def test_registered_in_mmocr_scope():
    from mmocr.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmocr'):
        t = TRANSFORMS.build(dict(type='TextGuidanceAug', preset='weak'))
    assert isinstance(t, TextGuidanceAug) and t.preset == 'weak'

