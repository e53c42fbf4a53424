"""The conv stem (mnsp_mm/models/backbones/conv_stem.py) and TextViT(stem='conv')."""
import pytest
import torch

from mnsp_mm.models import TextViT
from mnsp_mm.models.backbones import ConvStem


@pytest.mark.parametrize('patch,img,grid', [((8, 8), (32, 128), (4, 16)),
                                            ((4, 4), (32, 128), (8, 32)),
                                            ((4, 8), (32, 128), (8, 16)),
                                            ((8, 8), (16, 64), (2, 8))])
def test_tokens_and_grid_match_the_patch_grid(patch, img, grid):
    stem = ConvStem(48, patch).eval()
    tokens, out_grid = stem(torch.randn(2, 3, *img))
    assert tuple(out_grid) == grid and tokens.shape == (2, grid[0] * grid[1], 48)


def test_a_token_sees_only_its_neighbourhood():
    """The receptive field is wider than a patch, but the stem stays local (no global mixing)."""
    stem = ConvStem(32, (8, 8)).eval()
    x = torch.randn(1, 3, 32, 128)
    y = x.clone()
    y[..., 96:] = 0  # change the last quarter of the width (columns 12..15 of the grid)
    with torch.no_grad():
        a, b = stem(x)[0].view(4, 16, 32), stem(y)[0].view(4, 16, 32)
    changed = (a - b).abs().amax(dim=(0, 2)) > 1e-6
    assert changed[12:].all() and not changed[:10].any()


@pytest.mark.parametrize('patch', [6, (8, 12), 1])
def test_non_power_of_two_patches_are_refused(patch):
    with pytest.raises(ValueError, match='power-of-two'):
        TextViT(arch='tiny', img_size=(48, 96), patch_size=patch, stem='conv')


def test_unknown_stem_is_refused():
    with pytest.raises(ValueError, match="stem must be 'patch' or 'conv'"):
        TextViT(arch='tiny', stem='resnet')


def _tiny(**kw):
    arch = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
    return TextViT(arch=arch, patch_size=8, stem='conv', **kw)


def test_text_vit_with_conv_stem_plain_masked_and_other_resolution():
    model = _tiny(tuple_output=False)
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 32, 128)
    assert model(x).shape == (2, 1 + 64, 32)
    out = model(x, mask=True)
    assert out.tokens.shape == (2, 1 + 16, 32) and out.grid == (4, 16)
    assert model.encode_image(torch.randn(2, 3, 16, 64)).shape == (2, 1 + 16, 32)
    names = [n for n, _ in model.named_parameters() if n.startswith('patch_embed')]
    assert 'patch_embed.projection.weight' in names and any('convs' in n for n in names)
    assert model.get_layer_depth('backbone.patch_embed.convs.0.weight', 'backbone.')[0] == 0


def test_pretrained_conv_stem_loads_into_a_recogniser_backbone(tmp_path):
    """A pretraining checkpoint (keys under backbone.) initialises a fine-tuning backbone,
    BN running statistics included."""
    source = _tiny()
    source.init_weights()
    source.train()
    source(torch.randn(4, 3, 32, 128))  # moves the BN running statistics away from 0/1
    path = tmp_path / 'pretrain.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}},
               path)
    target = _tiny(learnable_pos=True, pretrained=str(path))
    target.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


def test_channels_last_is_the_same_function_and_gradient():
    """The speed switch computes what the NCHW stem does, forward and backward (fp32 rounding)."""
    torch.manual_seed(0)
    plain = ConvStem(48, (8, 8)).train()
    fast = ConvStem(48, (8, 8), channels_last=True).train()
    fast.load_state_dict(plain.state_dict())
    x = torch.randn(4, 3, 32, 128)
    (a, grid_a), (b, grid_b) = plain(x), fast(x)
    assert grid_a == grid_b and b.shape == a.shape
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    a.square().mean().backward()
    b.square().mean().backward()
    for (name, p), q in zip(plain.named_parameters(), fast.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-3, atol=1e-5, msg=name)


def test_stem_channels_last_needs_the_conv_stem():
    assert TextViT(arch='tiny', patch_size=8, stem='conv',
                   stem_channels_last=True).patch_embed.channels_last
    with pytest.raises(ValueError, match="stem_channels_last=True needs stem='conv'"):
        TextViT(arch='tiny', stem_channels_last=True)
