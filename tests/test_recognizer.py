"""MMOCR fine-tuning: the MAERec recogniser, pretrained backbones, official weights, tools."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope
from mmocr.models.textrecog.decoders import NRTRDecoder
from mmocr.registry import MODELS as OCR_MODELS
from mmocr.structures import TextRecogDataSample
from mmpretrain.registry import MODELS as PRE_MODELS
from timm_reference import timm_vit_forward

from mnsp_mm.apis import build_runner, load_config
from mnsp_mm import synth
from mnsp_mm.checkpoint.convert import convert_official_checkpoint, textvit_to_timm

ROOT = Path(__file__).resolve().parents[1]
PAPER_FT = 'configs/maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py'
TINY_FT = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'


def build(cfg_model, scope):
    registry = OCR_MODELS if scope == 'mmocr' else PRE_MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg_model)
    model.init_weights()
    return model.eval()


def samples(n):
    return [TextRecogDataSample(metainfo=dict(valid_ratio=1.0)) for _ in range(n)]


def run(*args):
    res = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def test_maerec_s_architecture():
    cfg = load_config(PAPER_FT)
    cfg.model.backbone.pretrained = None
    model = build(cfg.model, 'mmocr')
    dec = model.decoder
    assert model.backbone.embed_dims == 384 and len(model.backbone.layers) == 12
    assert len(dec.layer_stack) == 6 and dec.max_seq_len == 48
    attn = dec.layer_stack[0].enc_attn
    assert (attn.n_head, attn.d_k, attn.d_v) == (8, 48, 48)
    assert dec.layer_stack[0].mlp.w_1.out_features == 1536
    assert model.backbone.pos_embed.requires_grad  # learned in fine-tuning
    pre = model.data_preprocessor  # what the backbone saw in pretraining: RGB, mean=std=127.5
    assert pre._channel_conversion and torch.allclose(pre.mean.flatten(), torch.full((3, ), 127.5))
    with torch.no_grad():
        assert model.extract_feat(torch.randn(2, 3, 32, 128)).shape == (2, 257, 384)


def test_official_maerec_checkpoint_loads_and_predicts_the_same(tmp_path):
    """The released MAERec-S layout: timm backbone keys + the decoder's own keys."""
    cfg = load_config(
        'configs/maerec/maerec_text-vit-s_official-weights-test_union14m-benchmark.py')
    torch.manual_seed(0)
    donor = build(cfg.model, 'mmocr')  # random weights, written out in the official layout
    for p in donor.parameters():
        p.data.normal_(0, 0.05)
    sd = donor.state_dict()
    official = {'backbone.' + k: v for k, v in textvit_to_timm(sd, 'backbone.')[0].items()}
    official.update({k: v for k, v in sd.items() if k.startswith('decoder.')})
    torch.save({'meta': {'mmocr_version': '1.0.0'}, 'state_dict': official}, tmp_path / 'o.pth')

    ours, unused, fmt = convert_official_checkpoint(tmp_path / 'o.pth')
    assert fmt == 'maerec' and not unused
    model = build(cfg.model, 'mmocr')
    missing, unexpected = model.load_state_dict(ours, strict=True)
    assert not missing and not unexpected

    # the reference: timm ViT forward + MMOCR's NRTR decoder reading the ViT tokens
    ref_dec = NRTRDecoder(n_layers=6, d_embedding=384, n_head=8, d_model=384, d_inner=1536,
                          d_k=48, d_v=48, max_seq_len=48, dictionary=model.decoder.dictionary)
    ref_dec.load_state_dict({k[len('decoder.'):]: v for k, v in official.items()
                             if k.startswith('decoder.')})
    ref_dec.eval()
    x = torch.randn(2, 3, 32, 128)
    timm_sd = {k[len('backbone.'):]: v for k, v in official.items() if k.startswith('backbone.')}
    with torch.no_grad():
        ref_feat = timm_vit_forward(timm_sd, x, num_heads=6)
        feat = model.extract_feat(x)
        assert torch.allclose(feat, ref_feat, atol=1e-4)
        ours_probs = model.decoder.forward_test(feat, None, samples(2))
        ref_probs = ref_dec.forward_test(None, ref_feat, samples(2))
    assert torch.equal(ours_probs.argmax(-1), ref_probs.argmax(-1))
    assert torch.allclose(ours_probs, ref_probs, atol=1e-4)


def test_pretraining_checkpoint_initialises_the_recogniser(tmp_path):
    pre_cfg = load_config(TINY_MAE)
    mae = build(pre_cfg.model, 'mmpretrain')
    torch.save({'state_dict': mae.state_dict(), 'meta': {}}, tmp_path / 'mae.pth')
    ft_cfg = load_config(TINY_FT)
    ft_cfg.model.backbone.pretrained = str(tmp_path / 'mae.pth')
    rec = build(ft_cfg.model, 'mmocr')
    want = {k[len('backbone.'):]: v for k, v in mae.state_dict().items()
            if k.startswith('backbone.')}
    got = rec.backbone.state_dict()
    assert set(got) == set(want)  # no missing ViT key
    assert all(torch.equal(got[k], want[k]) for k in want)


@pytest.fixture(scope='module')
def synth_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth')
    synth.render_dataset(root, 64, 1, name='train')
    synth.render_dataset(root, 16, 2, synth.preset('regular'), name='regular')
    synth.render_dataset(root, 16, 3, synth.preset('curved'), name='curved')
    return root


def test_finetune_and_test_tools_write_per_dataset_metrics(tmp_path, synth_sets):
    mae_cfg = load_config(TINY_MAE)
    torch.save({'state_dict': build(mae_cfg.model, 'mmpretrain').state_dict()},
               tmp_path / 'mae.pth')
    cfg = tmp_path / 'ft.py'
    cfg.write_text(
        f"_base_ = ['{ROOT / TINY_FT}']\n"
        f"model = dict(backbone=dict(pretrained='{tmp_path / 'mae.pth'}'))\n"
        f"train_dataloader = dict(batch_size=8, dataset=dict(data_root='{synth_sets}'))\n"
        "_sets = [dict(type='OCRDataset', data_root='" + str(synth_sets) + "', "
        "ann_file=f'textrecog_{n}.json', test_mode=True, pipeline=None) "
        "for n in ('regular', 'curved')]\n"
        "val_dataloader = dict(batch_size=16, dataset=dict(datasets=_sets))\n"
        "test_dataloader = val_dataloader\n"
        "val_evaluator = dict(dataset_prefixes=['regular', 'curved'])\n"
        "test_evaluator = val_evaluator\n"
        "train_cfg = dict(max_iters=4, val_interval=4)\n"
        "param_scheduler = []\n"
        "default_hooks = dict(checkpoint=dict(interval=4))\n")
    work = tmp_path / 'work'
    run('tools/train.py', cfg, '--work-dir', work)
    assert (work / 'iter_4.pth').is_file()
    out = run('tools/test.py', cfg, work / 'iter_4.pth', '--work-dir', work)
    metrics = json.loads((work / 'test_metrics.json').read_text())['metrics']
    for prefix in ('regular', 'curved'):
        for name in ('word_acc', 'word_acc_ignore_case', 'word_acc_ignore_case_symbol',
                     'char_recall', 'char_precision', '1-N.E.D'):
            assert 0. <= metrics[f'{prefix}/recog/{name}'] <= 1.
    assert 'metrics written to' in out
    table = run('tools/analysis/results_table.py', work, '--no-published')
    assert '| work |' in table and 'regular' in table and 'curved' in table


def test_overfits_200_synthetic_crops(tmp_path):
    """The whole stack learns: a tiny recogniser memorises 200 crops in 300 steps."""
    synth.render_dataset(tmp_path, 200, 5, replace(synth.preset('regular'), min_len=3, max_len=8))
    iters = 300
    cfg = load_config(TINY_FT, work_dir=str(tmp_path / 'work'), cfg_options={
        'train_dataloader.dataset.data_root': str(tmp_path),
        'val_dataloader.dataset.datasets.0.data_root': str(tmp_path),
        'val_dataloader.dataset.datasets.0.ann_file': 'textrecog_train.json',
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
        'optim_wrapper.optimizer.lr': 2e-3,
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
            dict(type='CosineAnnealingLR', T_max=iters - 20, eta_min=1e-5, by_epoch=False,
                 begin=20, end=iters)],
        # 8x8 patches (64 tokens), no dropout, words of 3-8 characters: fast memorisation
        'model.backbone.patch_size': 8, 'model.decoder.dropout': 0.0,
        'model.decoder.max_seq_len': 10, 'default_hooks.logger.interval': 100,
        'randomness.seed': 0})
    cfg.train_dataloader.dataset.pipeline = cfg.test_pipeline  # no augmentation
    runner = build_runner(cfg)
    runner.train()
    acc = runner.message_hub.get_scalar('val/synth/recog/word_acc_ignore_case_symbol').current()
    assert acc >= 0.9, acc


def test_lmim_finetune_recipe_uses_layer_decay():
    cfg = load_config('configs/lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py')
    cfg.model.backbone.pretrained = None
    cfg.model.backbone.arch = dict(embed_dims=96, num_layers=4, num_heads=3,
                                   feedforward_channels=384)
    cfg.model.decoder.update(n_layers=1, d_embedding=96, d_model=96, n_head=4, d_k=24, d_v=24,
                             d_inner=384)
    from mmengine.optim import build_optim_wrapper
    model = build(cfg.model, 'mmocr')
    with DefaultScope.overwrite_default_scope('mmocr'):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lrs = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lrs[id(p)] = group['lr']
    base = cfg.optim_wrapper.optimizer.lr
    layers = model.backbone.layers
    assert lrs[id(model.decoder.classifier.weight)] == pytest.approx(base)
    assert lrs[id(layers[3].attn.qkv.weight)] == pytest.approx(base * 0.75)
    assert lrs[id(layers[0].attn.qkv.weight)] == pytest.approx(base * 0.75**4)
    assert lrs[id(model.backbone.patch_embed.projection.weight)] == pytest.approx(base * 0.75**5)
    assert model.decoder.max_seq_len == 25


def test_mnsp_checkpoint_initialises_the_recogniser(tmp_path, mae_ckpt):
    """Only backbone.* of an MNSP checkpoint is used (scale embeddings, decoders, teacher not)."""
    from conftest import tiny_model
    mnsp = tiny_model('configs/mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py', mae_ckpt)
    torch.save({'state_dict': mnsp.state_dict()}, tmp_path / 'mnsp.pth')
    for config in ('configs/mnsp/mnsp_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py',
                   'configs/mnsp/mnsp_text-vit-s_8xb128-coslr-10e_union14m-l_maerec-recipe.py'):
        ft = load_config(config)
        ft.model.backbone.update(pretrained=str(tmp_path / 'mnsp.pth'),
                                 arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                                           feedforward_channels=384))
        ft.model.decoder.update(n_layers=1, d_embedding=96, d_model=96, n_head=4, d_k=24,
                                d_v=24, d_inner=384)
        rec = build(ft.model, 'mmocr')
        got = rec.backbone.state_dict()
        want = {k[len('backbone.'):]: v for k, v in mnsp.state_dict().items()
                if k.startswith('backbone.')}
        assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize('valid_ratios', [(1.0, 1.0, 1.0), (1.0, 0.5, 0.25)])
def test_cached_decoding_gives_the_same_predictions(valid_ratios):
    from mnsp_mm.models import MAERecDecoder
    cfg = load_config(TINY_FT)
    dec_cfg = dict(cfg.model.decoder)
    dec_cfg.pop('type')
    torch.manual_seed(0)
    # the dictionary and postprocessor come from mmocr's registry, whatever ran before
    with DefaultScope.overwrite_default_scope('mmocr'):
        cached = MAERecDecoder(**dec_cfg, cache_kv=True, early_exit=False).eval()
        full = MAERecDecoder(**dec_cfg, cache_kv=False).eval()
        exiting = MAERecDecoder(**dec_cfg, cache_kv=True, early_exit=True).eval()
    for p in cached.parameters():  # larger weights: varied, long predictions
        p.data.normal_(0, 0.3)
    full.load_state_dict(cached.state_dict())
    exiting.load_state_dict(cached.state_dict())
    feat = torch.randn(3, 257, 96)
    data = [TextRecogDataSample(metainfo=dict(valid_ratio=r)) for r in valid_ratios]
    with torch.no_grad():
        ref = full.forward_test(feat, None, data)
        got = cached.forward_test(feat, None, data)
        early = exiting.forward_test(feat, None, data)
    assert got.shape == ref.shape == (3, 25, cached.dictionary.num_classes)
    assert torch.equal(got.argmax(-1), ref.argmax(-1))
    assert torch.allclose(got, ref, atol=1e-5)
    texts = [full.postprocessor(ref, [d.clone() for d in data])[i].pred_text.item
             for i in range(3)]
    early_texts = [exiting.postprocessor(early, [d.clone() for d in data])[i].pred_text.item
                   for i in range(3)]
    assert texts == early_texts and any(texts)
