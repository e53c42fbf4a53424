"""LMIM: decoder, frozen teacher, the algorithm's losses and gradients, configs, checkpoints."""
import glob
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import build_pretrain_model, loss_drop, synthetic_batch, tiny_model

from tiny_configs import run_one_iteration

from mnsp_mm.apis import load_config
from mnsp_mm.models import FrozenTeacher, GuidedDecoder, random_masking
from mnsp_mm.checkpoint.convert import textvit_to_timm

ROOT = Path(__file__).resolve().parents[1]
TINY_LMIM = 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py'
TINY = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)


def tiny_lmim(mae_ckpt, **overrides):
    return tiny_model(TINY_LMIM, mae_ckpt, **overrides)


def test_guided_decoder_shapes_and_order():
    dec = GuidedDecoder(grid=(8, 32), in_dims=96, embed_dims=64, depth=2, num_heads=2,
                        ffn_dims=128, out_dims=40).eval()
    x = torch.randn(2, 256, 96)
    kept, mask, ids_restore, _ = random_masking(x, 0.8)
    tokens = torch.cat([torch.randn(2, 1, 96), kept], 1)
    context = torch.randn(2, 257, 96)
    assert dec(tokens, ids_restore, context).shape == (2, 256, 40)
    no_ctx = dec(tokens, ids_restore, None)
    assert no_ctx.shape == (2, 256, 40) and not torch.allclose(no_ctx, dec(tokens, ids_restore,
                                                                             context))
    assert dec.pos_embed.shape == (1, 257, 64)
    # LayerNorm eps as the official decoder (1e-6), or as asked; the position table is saved
    norms = [m for m in dec.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert len(norms) == 7 and all(m.eps == 1e-6 for m in norms)
    assert all(m.eps == 1e-5 for m in GuidedDecoder(depth=1, norm_eps=1e-5).modules()
               if isinstance(m, torch.nn.LayerNorm))
    assert torch.equal(dec.state_dict()['pos_embed'], dec.pos_embed)
    ca_sa = GuidedDecoder(grid=(8, 32), in_dims=96, embed_dims=64, depth=2, num_heads=2,
                          ffn_dims=128, out_dims=40, order='ca_sa').eval()
    ca_sa.load_state_dict(dec.state_dict())
    assert not torch.allclose(ca_sa(tokens, ids_restore, context), dec(tokens, ids_restore,
                                                                        context))
    with pytest.raises(ValueError, match='order'):
        GuidedDecoder(order='sa_sa')


def test_teacher_targets_are_normalised_frozen_features(mae_ckpt):
    teacher = build_pretrain_model(dict(type='FrozenTeacher', checkpoint=str(mae_ckpt),
                         backbone=dict(type='TextViT', arch=TINY)))
    assert all(not p.requires_grad for p in teacher.parameters())
    mae_sd = torch.load(mae_ckpt)['state_dict']
    assert torch.equal(teacher.backbone.layers[0].attn.qkv.weight,
                       mae_sd['backbone.layers.0.attn.qkv.weight'])
    teacher.train()
    assert not teacher.training and not teacher.backbone.training
    x = torch.randn(2, 3, 32, 128)
    target = teacher(x)
    assert target.shape == (2, 256, 96) and not target.requires_grad
    tokens = teacher.backbone(x)[:, 1:]
    assert torch.allclose(target, F.layer_norm(tokens, (96, )), atol=1e-6)
    assert torch.allclose(target.mean(-1), torch.zeros(2, 256), atol=1e-5)
    with pytest.raises(ValueError, match='needs a checkpoint'):
        FrozenTeacher(backbone=dict(type='TextViT', arch=TINY))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build_pretrain_model(dict(type='FrozenTeacher', checkpoint='nope.pth',
                   backbone=dict(type='TextViT', arch=TINY)))


def test_teacher_unchanged_by_training_and_both_branches_get_gradient(mae_ckpt):
    model = tiny_lmim(mae_ckpt)
    before = {k: v.clone() for k, v in model.target_generator.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    masked = torch.randn(4, 3, 32, 128, requires_grad=True)
    guide = torch.randn(4, 3, 32, 128, requires_grad=True)
    losses = model.loss([masked, guide], [])
    assert set(losses) == {'loss_mim', 'loss_align'}
    sum(losses.values()).backward()
    # gradient reaches the student through both views (the teacher runs without grad)
    assert masked.grad.abs().sum() > 0 and guide.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.target_generator.parameters())
    assert model.backbone.cls_token.grad.abs().sum() > 0
    opt.step()
    after = model.target_generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_switches_remove_their_terms(mae_ckpt):
    x = [torch.randn(2, 3, 32, 128), torch.randn(2, 3, 32, 128)]
    assert set(tiny_lmim(mae_ckpt, align_weight=0.0).loss(x, [])) == {'loss_mim'}
    no_guide = tiny_lmim(mae_ckpt, use_guidance=False)
    assert set(no_guide.loss(x[0], [])) == {'loss_mim'}
    with pytest.raises(ValueError, match='two views'):
        tiny_lmim(mae_ckpt).loss(x[0], [])


def test_loss_falls_on_a_fixed_batch(mae_ckpt):
    torch.manual_seed(0)
    imgs = synthetic_batch(3)
    first, last = loss_drop(tiny_lmim(mae_ckpt), [imgs, imgs.flip(-1)])
    assert last < 0.7 * first, (first, last)


# the pretraining configs (on Union14M-U, and the tiny CPU ones) with their ablations
LMIM_CONFIGS = sorted(glob.glob(str(ROOT / 'configs/lmim/lmim_*_union14m-u.py'))
                      + glob.glob(str(ROOT / 'configs/lmim/lmim_*_synth.py'))
                      + glob.glob(str(ROOT / 'configs/lmim/ablations/*.py')))


@pytest.mark.parametrize('config', LMIM_CONFIGS, ids=lambda p: Path(p).stem)
def test_every_lmim_config_runs_one_iteration(config, mae_ckpt, pool, tmp_path):
    """Each config at tiny size (its switches kept), one iteration on synthetic data."""
    runner = run_one_iteration(config, mae_ckpt, pool, tmp_path)
    assert runner.iter == 1
    assert runner.message_hub.get_scalar('train/loss').current() > 0


def test_official_lmim_checkpoint_converts(tmp_path):
    """Student (model_maeenc.*) and teacher (model_maeenc_momentum.*) of an LMIM checkpoint."""
    from mnsp_mm.checkpoint.convert import load_encoder_state_dict
    torch.manual_seed(1)
    student = build_pretrain_model(dict(type='TextViT', arch=TINY))
    teacher = build_pretrain_model(dict(type='TextViT', arch=TINY))
    model = {**{'model_maeenc.' + k: v for k, v in textvit_to_timm(student.state_dict())[0].items()},
             **{'model_maeenc_momentum.' + k: v
                for k, v in textvit_to_timm(teacher.state_dict())[0].items()},
             'decoder.blocks.0.weight': torch.zeros(2), 'mask_token': torch.zeros(1, 1, 64)}
    torch.save({'model': model, 'epoch': 9}, tmp_path / 'lmim.pth')
    for fmt, want in (('auto', student), ('lmim', student), ('lmim_teacher', teacher)):
        sd = load_encoder_state_dict(tmp_path / 'lmim.pth', fmt=fmt)
        fresh = build_pretrain_model(dict(type='TextViT', arch=TINY))
        missing, unexpected = fresh.load_state_dict(sd, strict=True)
        assert not missing and not unexpected
        assert all(torch.equal(v, want.state_dict()[k]) for k, v in sd.items())
    # the teacher of a new LMIM run can be the official LMIM teacher, converted on load
    t = build_pretrain_model(dict(type='FrozenTeacher', checkpoint=str(tmp_path / 'lmim.pth'),
                   checkpoint_format='lmim_teacher', backbone=dict(type='TextViT', arch=TINY)))
    assert torch.equal(t.backbone.cls_token, teacher.cls_token)


def test_mismatched_target_and_decoder_widths_fail_before_training(mae_ckpt):
    cfg = load_config(TINY_LMIM)
    cfg.model.pop('target_generator')
    cfg.model.target_generator = dict(type='PixelTarget', patch_size=4)
    with pytest.raises(ValueError, match=r'model.neck.out_dims=96, but the targets of '
                                         r'PixelTarget have 48 channels'):
        build_pretrain_model(cfg.model)


def test_loss_terms_as_methods_give_the_same_numbers(mae_ckpt):
    """LMIM.loss through mim_loss / align_loss equals the formula written out."""
    model = tiny_lmim(mae_ckpt, align_weight=0.5).eval()
    views = [torch.randn(2, 3, 32, 128), torch.randn(2, 3, 32, 128)]
    with torch.no_grad():
        torch.manual_seed(3)
        got = model.loss(views, [])
        torch.manual_seed(3)
        target = model.target_generator(views[0])
        out = model.backbone.forward_masked(views[0])
        guide = model.backbone.encode_image(views[1])
        mim = model.head.loss(model.neck(out.tokens, out.ids_restore, guide), target, out.mask)
        align = 0.5 * F.mse_loss(out.tokens[:, 0], guide[:, 0])
    assert torch.allclose(got['loss_mim'], mim, atol=1e-6)
    assert torch.allclose(got['loss_align'], align, atol=1e-6)
