"""[cls] attention maps (mnsp_mm/analysis) and tools/analysis/attention_maps.py."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from mnsp_mm.apis import load_config
from mnsp_mm import synth
from mnsp_mm import analysis as A

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / 'tools' / 'analysis' / 'attention_maps.py'
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TINY_CONFIG = f"""_base_ = ['{ROOT}/configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py']
model = dict(backbone=dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2,
                                     feedforward_channels=64)))
"""


def tiny_textvit(seed=0):
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(type='TextViT', arch=dict(TINY_ARCH), img_size=(32, 128),
                                  patch_size=4))
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def model():
    return tiny_textvit()


@pytest.fixture(scope='module')
def setup(tmp_path_factory, model):
    """Tiny config + checkpoint and 6 synthetic crops with glyph masks."""
    root = tmp_path_factory.mktemp('attn')
    ckpt = root / 'tiny.pth'
    torch.save({'state_dict': {'backbone.' + k: v for k, v in model.state_dict().items()}}, ckpt)
    config = root / 'tiny_mae.py'
    config.write_text(TINY_CONFIG)
    data = root / 'data'
    synth.render_dataset(data, 6, 0, masks=True, name='test')
    return dict(root=root, ckpt=ckpt, config=config, data=data)


def load_tool():
    spec = importlib.util.spec_from_file_location('attention_maps_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- library

def test_cls_attention_shapes_sums_and_matches_encoder(model):
    x = torch.randn(3, 3, 32, 128)
    model.train()
    maps = A.cls_attention(model, x, scales=((8, 32), (16, 64), (32, 128)))
    assert model.training  # mode restored
    model.eval()
    assert list(maps) == [(8, 32), (16, 64), (32, 128)]
    for (H, W), m in maps.items():
        assert m.shape == (3, H // 4, W // 4)
        assert (m >= 0).all()
        torch.testing.assert_close(m.sum(dim=(1, 2)), torch.ones(3))
    # native scale: the head-averaged, renormalised [cls] row of the last layer
    with torch.no_grad():
        _, weights = model.encode_image(x, need_weights=True)
    row = weights[-1][:, :, 0, 1:].mean(1)
    torch.testing.assert_close(maps[(32, 128)], (row / row.sum(1, keepdim=True)).view(3, 8, 32))
    first = A.cls_attention(model, x, layer=0)[(32, 128)]
    row0 = weights[0][:, :, 0, 1:].mean(1)
    torch.testing.assert_close(first, (row0 / row0.sum(1, keepdim=True)).view(3, 8, 32))
    with pytest.raises(ValueError, match='layer 2 out of range'):
        A.cls_attention(model, x, layer=2)
    with pytest.raises(ValueError, match='not divisible'):
        A.cls_attention(model, x, scales=((10, 30), ))


def _block_mask():
    """One 32x128 mask whose glyphs fill grid cells rows 2..5, cols 4..11 of the 8x32 grid."""
    mask = torch.zeros(1, 32, 128)
    mask[:, 8:24, 16:48] = 1
    return mask


def test_text_attention_fraction_hand_made_cases():
    mask = _block_mask()
    on_text = torch.zeros(1, 8, 32)
    on_text[:, 2:6, 4:12] = torch.rand(1, 4, 8) + .1
    on_background = torch.rand(1, 8, 32) + .1
    on_background[:, 2:6, 4:12] = 0
    uniform = torch.full((1, 8, 32), 1. / 256)
    torch.testing.assert_close(A.text_attention_fraction(on_text, mask), torch.ones(1))
    torch.testing.assert_close(A.text_attention_fraction(on_background, mask), torch.zeros(1))
    frac, chance = A.text_attention_fraction(uniform, mask, return_chance=True)
    torch.testing.assert_close(frac, torch.tensor([32 / 256]))
    torch.testing.assert_close(chance, torch.tensor([32 / 256]))
    # a ragged random mask on a coarser grid: uniform attention = glyph area fraction
    g = torch.Generator().manual_seed(0)
    masks = (torch.rand(4, 32, 128, generator=g) < torch.tensor([.1, .3, .5, .9])[:, None, None])
    frac, chance = A.text_attention_fraction(torch.ones(4, 2, 8), masks.to(torch.uint8),
                                             return_chance=True)
    torch.testing.assert_close(frac, masks.float().mean(dim=(1, 2)))
    torch.testing.assert_close(chance, frac)
    torch.testing.assert_close(A.chance_level(masks, (4, 16)), frac)
    with pytest.raises(ValueError, match='divide 0/255'):
        A.text_attention_fraction(uniform, mask * 255)


def test_glyph_focused_attention_beats_chance(setup):
    """Attention proportional to glyph coverage scores clearly above the chance level."""
    masks = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
             for p in sorted((setup['data'] / 'masks' / 'test').glob('*.png'))]
    masks = torch.from_numpy(np.stack(masks) > 127).float()
    assert masks.shape == (6, 32, 128)
    for grid in ((8, 32), (4, 16), (2, 8)):
        focused = A.text_fraction_per_patch(masks, grid) + 1e-3
        frac, chance = A.text_attention_fraction(focused, masks, return_chance=True)
        assert (0 < chance).all() and (chance < .6).all()
        assert (frac > chance).all(), (grid, frac, chance)
        if grid != (2, 8):  # 16x16-px patches all hold some text: less contrast to gain
            # on average clearly above (a crop whose glyphs fill most of it has little room)
            assert frac.mean() > chance.mean() + .1 and frac.mean() > 1.4 * chance.mean(), \
                (grid, frac, chance)
        anti = 1. - A.text_fraction_per_patch(masks, grid) + 1e-3
        assert (A.text_attention_fraction(anti, masks) < chance).all()


def test_overlay_shape_dtype_and_blend():
    image = np.full((32, 128, 3), 200, np.uint8)
    attn = torch.zeros(8, 32)
    attn[3, 5] = 1.
    out = A.overlay(image, attn, alpha=.5)
    assert out.shape == (32, 128, 3) and out.dtype == np.uint8
    assert not np.array_equal(out[12:16, 20:24], out[0:4, 0:4])  # the peak patch differs
    assert np.array_equal(A.overlay(image, attn.numpy(), alpha=0.), image)
    smooth = A.overlay(image, attn, interpolation='bilinear')
    assert smooth.shape == (32, 128, 3) and smooth.dtype == np.uint8


def test_input_spec_reads_the_config():
    pre = A.input_spec(load_config('configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'))
    assert (pre.loaded_order, pre.channel_order, pre.mean, pre.std) == (
        'rgb', 'rgb', (127.5, ) * 3, (127.5, ) * 3)
    ft = A.input_spec(load_config(
        'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'))
    assert (ft.loaded_order, ft.channel_order) == ('bgr', 'rgb')  # BGR loaded, bgr_to_rgb
    official = A.input_spec(load_config(
        'configs/maerec/maerec_text-vit-s_official-weights-test_union14m-benchmark.py'))
    assert official.channel_order == 'bgr' and official.mean == (123.675, 116.28, 103.53)
    rgb = np.zeros((4, 8, 3), np.uint8)
    rgb[..., 0] = 255
    x = A.preprocess([rgb], official)
    assert x.shape == (1, 3, 4, 8)
    assert torch.allclose(x[0, 2], torch.full((4, 8), (255 - 103.53) / 57.375))  # R is last


# ----------------------------------------------------------------------------- CLI

def test_cli_end_to_end(setup):
    out = setup['root'] / 'out'
    res = subprocess.run(
        [sys.executable, str(TOOL), str(setup['config']), str(setup['ckpt']),
         '--data', str(setup['data']), '--num', '5', '--out', str(out), '--name', 'tiny'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'text-attn' in res.stdout and '16x64' in res.stdout
    grid_png = out / 'attention_tiny.png'
    pngs = sorted((out / 'attention_tiny').glob('*.png'))
    assert len(pngs) == 5
    for png in [grid_png] + pngs:
        img = cv2.imread(str(png))
        assert img is not None and img.ndim == 3 and min(img.shape[:2]) > 50
    result = json.loads((out / 'attention_tiny.json').read_text())
    assert result['num_images'] == 5 and result['num_with_masks'] == 5
    assert result['note'] is None and result['layer'] == -1
    assert set(result['scales']) == {'8x32', '16x64', '32x128'}
    for key, grid in (('8x32', [2, 8]), ('16x64', [4, 16]), ('32x128', [8, 32])):
        row = result['scales'][key]
        assert row['grid'] == grid
        assert 0. <= row['text_attention_fraction'] <= 1.
        assert 0. < row['chance'] < 1.
        assert 0. < row['normalized_entropy'] <= 1. + 1e-6
    assert len(result['images']) == 5
    assert all(0. <= v <= 1. for im in result['images']
               for v in im['text_attention_fraction'].values())


def test_cli_without_masks_and_errors(setup, tmp_path, capsys):
    tool = load_tool()
    images = setup['data'] / 'imgs' / 'test'  # a plain image directory: no masks
    result = tool.run(tool.parse_args([str(setup['config']), str(setup['ckpt']), '--data',
                                       str(images), '--num', '2', '--scales', '32x128',
                                       '--out', str(tmp_path), '--name', 'nomask']))
    assert result['num_images'] == 2 and result['num_with_masks'] == 0
    assert result['scales']['32x128']['text_attention_fraction'] is None
    assert 'no glyph masks' in result['note'] and 'no glyph masks' in capsys.readouterr().out
    assert (tmp_path / 'attention_nomask.png').is_file()

    missing = tmp_path / 'missing.pth'
    with pytest.raises(SystemExit, match=f'checkpoint not found: {missing}'):
        tool.main([str(setup['config']), str(missing), '--data', str(setup['data'])])
    missing_ann = tmp_path / 'textrecog_nope.json'
    with pytest.raises(SystemExit, match=f'--data not found: {missing_ann}'):
        tool.main([str(setup['config']), str(setup['ckpt']), '--data', str(missing_ann)])
    with pytest.raises(SystemExit, match='--layer 7 out of range'):
        tool.main([str(setup['config']), str(setup['ckpt']), '--data', str(setup['data']),
                   '--layer', '7', '--out', str(tmp_path)])
