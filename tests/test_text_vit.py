import pytest
import torch

from mnsp_mm.models import TextViT, random_masking
from mnsp_mm.models.utils import sincos_2d

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def tiny_vit(**kw):
    m = TextViT(arch=TINY, **kw)
    m.init_weights()
    return m.eval()


@pytest.mark.parametrize('arch,dims,layers,heads', [('tiny', 192, 12, 3), ('small', 384, 12, 6),
                                                    ('base', 768, 12, 12)])
def test_archs(arch, dims, layers, heads):
    m = TextViT(arch=arch)
    assert (m.embed_dims, m.num_layers, m.layers[0].attn.num_heads) == (dims, layers, heads)
    assert m.patch_resolution == (8, 32)
    assert m.pos_embed.shape == (1, 1 + 256, dims)


def test_output_types_32x128():
    x = torch.randn(2, 3, 32, 128)
    assert tiny_vit(out_type='raw')(x)[0].shape == (2, 257, 32)
    assert tiny_vit(out_type='featmap')(x)[0].shape == (2, 32, 8, 32)
    assert tiny_vit(out_type='cls_token')(x)[0].shape == (2, 32)
    assert tiny_vit(out_type='avg_featmap')(x)[0].shape == (2, 32)
    assert tiny_vit(tuple_output=False)(x).shape == (2, 257, 32)


@pytest.mark.parametrize('img,patch,grid', [((32, 128), 4, (8, 32)), ((48, 160), 4, (12, 40)),
                                            ((32, 128), (4, 8), (8, 16)), ((64, 64), 8, (8, 8))])
def test_other_grids(img, patch, grid):
    m = tiny_vit(img_size=img, patch_size=patch, out_type='featmap')
    assert m.patch_resolution == grid
    assert m(torch.randn(1, 3, *img))[0].shape == (1, 32, *grid)


def test_position_table_is_row_major_8x32_not_16x16():
    m = tiny_vit()
    table = m.pos_embed[0, 1:].reshape(8, 32, 32)
    # first half of the channels encodes the column, second half the row
    assert torch.allclose(table[0, :, :16], table[5, :, :16])   # same column code on every row
    assert torch.allclose(table[:, 7, 16:], table[:, 20, 16:])  # same row code on every column
    assert not torch.allclose(table[0, 0], table[0, 16])        # 16x16 would wrap here
    assert torch.allclose(m.pos_embed[0, 0], torch.zeros(32))
    assert not m.pos_embed.requires_grad
    assert tiny_vit(learnable_pos=True).pos_embed.requires_grad


def test_sincos_matches_official_mae_layout():
    # official MAE: np.meshgrid(grid_w, grid_h) -> emb = [emb(x), emb(y)], each [sin, cos]
    h, w, d = 8, 32, 16
    omega = 1. / 10000**(torch.arange(d // 4, dtype=torch.float64) / (d / 4))
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                            torch.arange(w, dtype=torch.float64), indexing='ij')
    ex, ey = xs.flatten()[:, None] * omega, ys.flatten()[:, None] * omega
    ref = torch.cat([ex.sin(), ex.cos(), ey.sin(), ey.cos()], 1).float()
    assert torch.allclose(sincos_2d((h, w), d)[0], ref, atol=1e-6)


def test_masking_keeps_exact_fraction_and_restores():
    x = torch.randn(3, 256, 8)
    kept, mask, ids_restore, ids_keep = random_masking(x, 0.75)
    assert kept.shape == (3, 64, 8)
    assert (mask.sum(1) == 192).all() and mask.shape == (3, 256)
    assert torch.equal(kept, x.gather(1, ids_keep[..., None].expand(-1, -1, 8)))
    assert (mask.gather(1, ids_keep) == 0).all()
    # put kept tokens back with zeros for the removed ones, then restore order
    full = torch.cat([kept, torch.zeros(3, 192, 8)], 1).gather(1, ids_restore[..., None].expand(-1, -1, 8))
    assert torch.equal(full * (1 - mask[..., None]), x * (1 - mask[..., None]))
    assert random_masking(x, 0.8)[0].shape[1] == int(256 * 0.2)
    with pytest.raises(ValueError, match='mask_ratio'):
        random_masking(x, 1.0)


def test_masked_forward():
    m = tiny_vit(mask_ratio=0.75)
    out = m(torch.randn(2, 3, 32, 128), mask=True)
    assert out.tokens.shape == (2, 1 + 64, 32)
    assert out.mask.shape == (2, 256) and out.ids_restore.shape == (2, 256)
    assert out.grid == (8, 32)
    assert m.forward_masked(torch.randn(2, 3, 32, 128), 0.8).tokens.shape == (2, 1 + 51, 32)


def test_masked_forward_with_zero_ratio_equals_plain_forward():
    m = tiny_vit()
    x = torch.randn(2, 3, 32, 128)
    out = m.forward_masked(x, 0.0)
    plain = m(x)[0]
    # order of patch tokens differs (shuffled); cls token and the restored set are identical
    assert torch.allclose(out.tokens[:, 0], plain[:, 0], atol=1e-5)
    restored = out.tokens[:, 1:].gather(1, out.ids_restore[..., None].expand(-1, -1, 32))
    assert torch.allclose(restored, plain[:, 1:], atol=1e-5)


def test_multi_resolution_same_weights():
    m = tiny_vit(out_type='featmap')
    for h, w in [(8, 32), (16, 64), (32, 128)]:
        assert m(torch.randn(1, 3, h, w))[0].shape == (1, 32, h // 4, w // 4)
    # coarse positions sit at the centres of the fine cells they cover
    coarse = m.pos_embed_for((2, 8))[0, 1:].reshape(2, 8, 32)
    ref = sincos_2d((2, 8), 32, ref_grid=(8, 32))[0].reshape(2, 8, 32)
    assert torch.allclose(coarse, ref)
    assert torch.allclose(m.pos_embed_for((8, 32)), m.pos_embed)
    learn = tiny_vit(learnable_pos=True)
    assert learn.pos_embed_for((4, 16)).shape == (1, 65, 32)


def test_attention_mask_and_weights():
    m = tiny_vit()
    tokens, _ = m.embed(torch.randn(2, 3, 32, 128))
    seq = torch.cat([m.cls_tokens(2), tokens], 1)
    full = m.encode(seq)
    allow_all = torch.ones(257, 257, dtype=torch.bool)
    assert torch.allclose(m.encode(seq, allow_all), full, atol=1e-5)
    out, weights = m.encode(seq, need_weights=True)
    assert torch.allclose(out, full, atol=1e-5)
    assert len(weights) == 2 and weights[-1].shape == (2, 2, 257, 257)
    assert torch.allclose(weights[-1].sum(-1), torch.ones(2, 2, 257), atol=1e-5)
    # causal mask: output of token i must not depend on tokens after i
    causal = torch.ones(257, 257, dtype=torch.bool).tril()
    a = m.encode(seq, causal)
    seq2 = seq.clone()
    seq2[:, 100:] += 1.
    b = m.encode(seq2, causal)
    assert torch.allclose(a[:, :100], b[:, :100], atol=1e-5)
    assert not torch.allclose(a[:, 100:], b[:, 100:])


def test_layer_depth_for_layer_decay():
    m = TextViT(arch=TINY)
    assert m.get_layer_depth('backbone.cls_token', 'backbone.') == (0, 4)
    assert m.get_layer_depth('backbone.patch_embed.projection.weight', 'backbone.') == (0, 4)
    assert m.get_layer_depth('backbone.layers.1.attn.qkv.weight', 'backbone.') == (2, 4)
    assert m.get_layer_depth('head.fc.weight', 'backbone.') == (3, 4)


def test_bad_sizes_fail_clearly():
    with pytest.raises(ValueError, match='not divisible by the patch size'):
        TextViT(arch=TINY, img_size=(30, 128))
    m = tiny_vit()
    with pytest.raises(ValueError, match='33x128'):
        m(torch.randn(1, 3, 33, 128))
    with pytest.raises(ValueError, match='tuple_output'):
        TextViT(arch=TINY, out_indices=[0, 1], tuple_output=False)


def test_state_dict_roundtrip_keeps_stored_pos_embed():
    src = tiny_vit(learnable_pos=True)
    src.pos_embed.data.normal_()
    dst = tiny_vit()
    dst.load_state_dict(src.state_dict())
    assert torch.equal(dst.pos_embed, src.pos_embed)  # same length: kept as stored


def test_pos_embed_of_other_length_is_adapted():
    sd = tiny_vit(img_size=(16, 64)).state_dict()  # 4x16 grid
    fixed = tiny_vit()
    fixed.load_state_dict(sd)
    assert torch.allclose(fixed.pos_embed, sincos_2d((8, 32), 32, cls_token=True))
    learn = tiny_vit(learnable_pos=True)
    learn.load_state_dict(sd)  # resized 4x16 -> 8x32
    assert learn.pos_embed.shape == (1, 257, 32)


def test_registered_in_both_scopes():
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS as OCR
    from mmpretrain.registry import MODELS as PRE
    assert PRE.get('TextViT') is TextViT and OCR.get('TextViT') is TextViT
    with DefaultScope.overwrite_default_scope('mmocr'):
        built = OCR.build(dict(type='TextViT', arch=TINY, tuple_output=False))
    assert isinstance(built, TextViT)
