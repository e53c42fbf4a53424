"""Tests for TextGuidanceAug (LMIM's guidance-view augmentation)."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from mnsp_mm.datasets.guidance import PRESETS, TextGuidanceAug

PRESET_NAMES = ('weak', 'medium', 'strong')


def _text_img(h=32, w=128, seed=0):
    """A coloured, text-like crop: tinted background, dark glyphs, mild noise."""
    rs = np.random.RandomState(seed)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rs.randint(150, 256, 3)
    cv2.putText(img, 'Text%d' % seed, (2, int(h * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, h / 32,
                tuple(int(c) for c in rs.randint(0, 100, 3)), max(1, h // 16))
    noise = rs.randint(-10, 11, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def _seed(s):
    np.random.seed(s)
    torch.manual_seed(s)


@pytest.mark.parametrize('preset', PRESET_NAMES)
@pytest.mark.parametrize('hw', [(32, 128), (40, 160)])
def test_output_shape_dtype(preset, hw):
    t = TextGuidanceAug(preset=preset)
    _seed(0)
    for i in range(5):
        img = _text_img(*hw, seed=i)
        out = t(dict(img=img.copy(), img_shape=hw, ori_shape=hw))
        assert out['img'].dtype == np.uint8
        assert out['img'].shape == (hw[0], hw[1], 3)
        assert out['img_shape'] == hw
        assert out['ori_shape'] == hw


def _mean_abs_diff(preset, n=50):
    t = TextGuidanceAug(preset=preset)
    _seed(123)
    diffs, changed = [], 0
    for i in range(n):
        img = _text_img(seed=i)
        out = t(dict(img=img.copy()))['img']
        d = np.abs(out.astype(np.int16) - img.astype(np.int16))
        diffs.append(d.mean())
        changed += int(d.max() > 0)
    return float(np.mean(diffs)), changed


def test_strength_ordering_and_medium_changes_image():
    weak, _ = _mean_abs_diff('weak')
    medium, medium_changed = _mean_abs_diff('medium')
    strong, _ = _mean_abs_diff('strong')
    assert medium_changed >= 48, medium_changed  # SomeOf(3+) -> (almost) always changed
    assert weak < medium < strong, (weak, medium, strong)
    assert weak < 0.75 * strong, (weak, strong)


def test_same_seed_same_output_different_seed_differs():
    img = _text_img(seed=3)

    def run(s, t=None):
        t = t or TextGuidanceAug()
        _seed(s)
        return [t(dict(img=img.copy()))['img'] for _ in range(4)]

    a, b = run(7), run(7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    t = TextGuidanceAug()
    run(99, t)  # pipeline state from earlier calls does not leak into later ones
    assert all(np.array_equal(x, y) for x, y in zip(a, run(7, t)))
    c = run(8)
    assert not any(np.array_equal(x, y) for x, y in zip(a, c))
    # the torchvision part alone follows torch's RNG
    t_color = TextGuidanceAug(some_of=0, color_jitter_p=1.0, gray_p=0.0)
    np.random.seed(0)
    torch.manual_seed(1)
    x = t_color(dict(img=img.copy()))['img']
    np.random.seed(0)
    torch.manual_seed(2)
    y = t_color(dict(img=img.copy()))['img']
    assert not np.array_equal(x, y)


def test_bgr_channel_order_mirrors_rgb():
    img = _text_img(seed=5)
    _seed(11)
    rgb = TextGuidanceAug()(dict(img=img.copy()))['img']
    _seed(11)
    bgr = TextGuidanceAug(channel_order='bgr')(dict(img=np.ascontiguousarray(img[..., ::-1])))
    assert np.array_equal(bgr['img'][..., ::-1], rgb)


def test_overrides_and_disabled_ops():
    t = TextGuidanceAug(preset='weak', rotate=(-3, 3), some_of=(2, None), color_jitter=None)
    assert t.params['rotate'] == (-3.0, 3.0)
    assert t.params['some_of'] == (2, None)
    assert 'rotate' in repr(t)
    # everything off -> identity
    ident = TextGuidanceAug(some_of=0, color_jitter=None, gray_p=0)
    img = _text_img()
    assert np.array_equal(ident(dict(img=img.copy()))['img'], img)
    assert set(PRESETS) == set(PRESET_NAMES)
    assert all(PRESETS[p].keys() == PRESETS['medium'].keys() for p in PRESET_NAMES)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match='hard'):
        TextGuidanceAug(preset='hard')
    with pytest.raises(ValueError, match='rotation'):
        TextGuidanceAug(rotation=10)
    with pytest.raises(ValueError, match='contrast'):
        TextGuidanceAug(contrast=(1.5, 0.5))
    with pytest.raises(ValueError, match='hue'):
        TextGuidanceAug(color_jitter=(0.4, 0.4, 0.2, 0.7))
    with pytest.raises(ValueError, match='channel_order'):
        TextGuidanceAug(channel_order='rgba')
    with pytest.raises(ValueError, match='uint8'):
        TextGuidanceAug()(dict(img=np.zeros((32, 128), np.uint8)))


def test_multiview_pipeline_in_mmpretrain():
    from mmpretrain.registry import TRANSFORMS
    from mmengine.dataset import Compose
    pipeline_cfg = [
        dict(type='MultiView', num_views=[1, 1], transforms=[
            [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
            [dict(type='TextGuidanceAug', preset='medium'),
             dict(type='Resize', scale=(128, 32), keep_ratio=False)]]),
        dict(type='PackInputs'),
    ]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([TRANSFORMS.build(c) for c in pipeline_cfg])
        _seed(0)
        for hw in [(32, 128), (45, 170)]:
            img = _text_img(*hw)
            out = pipeline(dict(img=img, img_shape=hw, ori_shape=hw))
            inputs = out['inputs']
            assert isinstance(inputs, list) and len(inputs) == 2
            for x in inputs:
                assert isinstance(x, torch.Tensor)
                assert tuple(x.shape) == (3, 32, 128)
                assert x.dtype == torch.uint8
            assert not torch.equal(inputs[0], inputs[1])


def test_registered_in_mmocr_scope():
    from mmocr.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmocr'):
        t = TRANSFORMS.build(dict(type='TextGuidanceAug', preset='weak'))
    assert isinstance(t, TextGuidanceAug) and t.preset == 'weak'
