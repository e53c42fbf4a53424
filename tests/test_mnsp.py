"""MNSP: multi-scale encoding, block-causal mask, targets, switches, configs."""
import glob
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import loss_drop, synthetic_batch, tiny_model
from mmengine.registry import DefaultScope
from mmpretrain.registry import TRANSFORMS
from tiny_configs import run_one_iteration

from mnsp_mm.apis import load_config
from mnsp_mm.models import block_causal_mask
from mnsp_mm.models.heads import patchify

ROOT = Path(__file__).resolve().parents[1]
TINY_MNSP = 'configs/mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py'


def tiny_mnsp(mae_ckpt, **overrides):
    return tiny_model(TINY_MNSP, mae_ckpt, **overrides)


def pyramid(batch=2, seed=0, scales=((8, 32), (16, 64), (32, 128))):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, *s, generator=g) for s in scales]


def test_block_causal_mask_is_exact():
    want = torch.tensor([[1, 1, 0, 0, 0, 0],
                         [1, 1, 0, 0, 0, 0],
                         [1, 1, 1, 1, 1, 0],
                         [1, 1, 1, 1, 1, 0],
                         [1, 1, 1, 1, 1, 0],
                         [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(block_causal_mask([2, 3, 1]), want)


def test_shapes_per_scale(mae_ckpt):
    model = tiny_mnsp(mae_ckpt)
    assert model.grids == [(2, 8), (4, 16), (8, 32)]
    views = pyramid()
    context, sizes = model.encode_coarse(views[:-1])
    assert sizes == [1 + 16, 1 + 64] and context.shape == (2, 17 + 65, 96)
    targets = model.target_generator.pyramid(views, model.grids)
    assert [t.shape for t in targets] == [(2, 16, 96), (2, 64, 96), (2, 256, 96)]
    assert model.extract_feat(views)[0].shape == (2, 257, 96)


def test_a_finer_scale_cannot_change_a_coarser_one(mae_ckpt):
    model = tiny_mnsp(mae_ckpt).eval()
    views = pyramid()
    with torch.no_grad():
        before, _ = model.encode_coarse(views[:-1])
        changed = [views[0], views[1] + 1.0]
        after, _ = model.encode_coarse(changed)
        assert torch.allclose(before[:, :17], after[:, :17], atol=1e-6)  # scale 1 untouched
        assert not torch.allclose(before[:, 17:], after[:, 17:])         # scale 2 sees it
        # and a coarser change does reach the finer scale
        after2, _ = model.encode_coarse([views[0] + 1.0, views[1]])
        assert not torch.allclose(before[:, 17:], after2[:, 17:])


def test_coarse_targets_are_area_pooled_teacher_features(mae_ckpt):
    model = tiny_mnsp(mae_ckpt)
    teacher = model.target_generator
    views = pyramid()
    calls = []
    handle = teacher.backbone.register_forward_hook(lambda *a: calls.append(1))
    targets = teacher.pyramid(views, model.grids)
    handle.remove()
    assert len(calls) == 1  # the teacher runs once, on the full view
    with torch.no_grad():
        raw = teacher.backbone(views[-1])[:, 1:].reshape(2, 8, 32, 96)
    for (h, w), target in zip(model.grids, targets):
        pooled = raw.reshape(2, h, 8 // h, w, 32 // w, 96).mean((2, 4)).reshape(2, h * w, 96)
        assert torch.allclose(target, F.layer_norm(pooled, (96, )), atol=1e-5)
    assert torch.allclose(targets[-1], teacher(views[-1]), atol=1e-6)


def test_pixel_targets_use_each_scale_view():
    from mnsp_mm.models import PixelTarget
    views = pyramid()
    targets = PixelTarget(4, norm_pix=False).pyramid(views, [(2, 8), (4, 16), (8, 32)])
    for view, target in zip(views, targets):
        assert torch.equal(target, patchify(view, (4, 4)))


@pytest.mark.parametrize('switches,terms', [
    (dict(), {'loss_nsp', 'loss_mim', 'loss_mla'}),
    (dict(use_mim=False, use_mla=False), {'loss_nsp'}),
    (dict(use_nsp=False, use_mla=False), {'loss_mim'}),
    (dict(use_mla=False), {'loss_nsp', 'loss_mim'}),
    (dict(use_nsp=False), {'loss_mim', 'loss_mla'}),
    (dict(nsp_weight=0.0), {'loss_mim', 'loss_mla'}),
])
def test_each_switch_removes_exactly_its_term(mae_ckpt, switches, terms):
    torch.manual_seed(0)
    full = tiny_mnsp(mae_ckpt)
    torch.manual_seed(0)
    model = tiny_mnsp(mae_ckpt, **switches)
    model.load_state_dict(full.state_dict(), strict=False)
    full.eval(), model.eval()  # no dropout: the masking draws the same random numbers
    views = pyramid()
    torch.manual_seed(1)
    ref = full.loss(views, [])
    torch.manual_seed(1)
    losses = model.loss(views, [])
    assert set(losses) == terms
    for name in terms:  # the remaining terms are the same numbers as in the full model
        assert torch.allclose(losses[name], ref[name], atol=1e-6), name


def test_bad_setups_fail_clearly(mae_ckpt):
    with pytest.raises(ValueError, match='every loss is switched off'):
        tiny_mnsp(mae_ckpt, use_nsp=False, use_mim=False, use_mla=False)
    with pytest.raises(ValueError, match='must nest'):
        tiny_mnsp(mae_ckpt, scales=[(12, 48), (32, 128)])
    with pytest.raises(ValueError, match='backbone img_size'):
        tiny_mnsp(mae_ckpt, scales=[(8, 32), (16, 64)])
    model = tiny_mnsp(mae_ckpt)
    with pytest.raises(ValueError, match='expects 3 views'):
        model.loss(pyramid()[1:], [])
    with pytest.raises(ValueError, match='expect \\(8, 32\\)'):
        model.loss(pyramid(scales=((16, 64), (16, 64), (32, 128))), [])


def test_guidance_view_joins_mim_context_and_alignment(mae_ckpt):
    model = tiny_mnsp(mae_ckpt, use_guidance=True)
    views = pyramid() + [torch.randn(2, 3, 32, 128)]
    losses = model.loss(views, [])
    assert set(losses) == {'loss_nsp', 'loss_mim', 'loss_mla'}
    sum(losses.values()).backward()
    assert model.scale_embed.grad.abs().sum() > 0


def test_full_loss_falls_on_a_fixed_batch(mae_ckpt):
    torch.manual_seed(0)
    imgs = synthetic_batch(4)
    views = [F.interpolate(imgs, size=s, mode='area') for s in ((8, 32), (16, 64))] + [imgs]
    first, last = loss_drop(tiny_mnsp(mae_ckpt), views)
    assert last < 0.6 * first, (first, last)


def test_multi_scale_pipeline_gives_the_pyramid():
    import numpy as np

    import mnsp_mm  # noqa: F401
    cfg = load_config(TINY_MNSP)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        steps = [TRANSFORMS.build(t) for t in cfg.train_pipeline[1:]]
    results = dict(img=np.random.randint(0, 255, (40, 150, 3), np.uint8))
    for step in steps:
        results = step(results)
    assert [tuple(v.shape) for v in results['inputs']] == [(3, 8, 32), (3, 16, 64), (3, 32, 128)]


# the pretraining configs (on Union14M-U, and the tiny CPU ones) with their ablations
MNSP_CONFIGS = sorted(glob.glob(str(ROOT / 'configs/mnsp/mnsp_*_union14m-u.py'))
                      + glob.glob(str(ROOT / 'configs/mnsp/mnsp_*_synth.py'))
                      + glob.glob(str(ROOT / 'configs/mnsp/ablations/*.py')))


@pytest.mark.parametrize('config', MNSP_CONFIGS, ids=lambda p: Path(p).stem)
def test_every_mnsp_config_runs_one_iteration(config, mae_ckpt, pool, tmp_path):
    runner = run_one_iteration(config, mae_ckpt, pool, tmp_path)
    assert runner.iter == 1
    assert runner.message_hub.get_scalar('train/loss').current() > 0


def test_mismatched_nsp_width_fails_before_training(mae_ckpt):
    with pytest.raises(ValueError, match=r'model.nsp_neck.out_dims=48.*FrozenTeacher have 96'):
        tiny_mnsp(mae_ckpt, nsp_neck=dict(out_dims=48))


def _loss_as_one_method(model, views):
    """MNSP.loss as it was written before its terms became methods (the reference)."""
    pyramid_, guide_view = views[:len(model.scales)], views[len(model.scales):]
    targets = model.target_generator.pyramid(pyramid_, model.grids)
    context, sizes = model.encode_coarse(pyramid_[:-1])
    guide = model.backbone.encode_image(guide_view[0]) if guide_view else None
    losses = dict(loss_nsp=model.nsp_weight * model.nsp_loss(context, sizes, targets))
    out = model.backbone.forward_masked(pyramid_[-1])
    ctx = context if guide is None else torch.cat([context, guide], 1)
    pred = model.neck(out.tokens, out.ids_restore, ctx)
    losses['loss_mim'] = model.mim_weight * model.head.loss(pred, targets[-1], out.mask)
    starts = torch.tensor([0] + sizes[:-1]).cumsum(0).tolist()
    others = [context[:, s] for s in starts] + ([guide[:, 0]] if guide is not None else [])
    losses['loss_mla'] = model.mla_weight * torch.stack(
        [F.mse_loss(c, out.tokens[:, 0]) for c in others]).mean()
    return losses


@pytest.mark.parametrize('guidance', [False, True])
def test_loss_terms_as_methods_give_the_same_numbers(mae_ckpt, guidance):
    model = tiny_mnsp(mae_ckpt, use_guidance=guidance, nsp_weight=0.5, mla_weight=2.0).eval()
    views = pyramid() + ([torch.randn(2, 3, 32, 128)] if guidance else [])
    with torch.no_grad():
        torch.manual_seed(3)
        got = model.loss(views, [])
        torch.manual_seed(3)
        want = _loss_as_one_method(model, views)
    assert set(got) == set(want)
    for key in want:
        assert torch.allclose(got[key], want[key], atol=1e-6), key


def test_alignment_without_tokens_to_align_fails_clearly():
    from mnsp_mm.models.losses import cls_alignment_loss
    with pytest.raises(ValueError, match='no \\[cls\\] tokens'):
        cls_alignment_loss(torch.zeros(2, 3), [])
