"""Frozen-encoder reading probe, partial re-initialisation, encoder scales and patch attention."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mnsp_mm import synth
from mnsp_mm.analysis import reading_probe as RP
from mnsp_mm.analysis.encoder_scales import (activation_stats, content_share, encoder_scales,
                                             summarise, within_crop_share)
from mnsp_mm.analysis.reinit import part_keys, reinit_encoder, save_reinit, write_keys
from mnsp_mm.apis import load_config
from mnsp_mm.checkpoint.convert import load_encoder_state_dict

ROOT = Path(__file__).resolve().parents[1]
TINY_CONFIG = f"""_base_ = ['{ROOT}/configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py']
model = dict(backbone=dict(patch_size=8, stem='conv', arch=dict(_delete_=True, embed_dims=32,
             num_layers=2, num_heads=2, feedforward_channels=64)))
"""


def toy_tokens(num, seed, grid=(2, 12), dims=24, informative=True):
    """Tokens that spell their label: column t holds the embedding of the t-th character
    (or of a blank) in both rows, plus noise; with ``informative=False`` pure noise."""
    rng = np.random.default_rng(seed)
    h, w = grid
    codes = np.random.default_rng(99).normal(0, 1, (len(RP.CHARSET) + 1, dims))
    tokens = rng.normal(0, 0.3, (num, 1 + h * w, dims)).astype(np.float32)
    texts = []
    for i in range(num):
        text = ''.join(rng.choice(list(RP.CHARSET), rng.integers(2, 5)))
        texts.append(text)
        if not informative:
            continue
        cols = [len(RP.CHARSET)] * w
        for j, c in enumerate(text):
            cols[1 + 2 * j] = RP.CHARSET.index(c)
        grid_tokens = tokens[i, 1:].reshape(h, w, dims)
        grid_tokens += codes[cols][None]
    return tokens, texts


def test_linear_probe_learns_to_read_tokens_that_spell_the_label():
    tokens, texts = toy_tokens(3000, 0)
    head, losses = RP.train_head('linear', tokens, texts, (2, 12), steps=400)
    test_tokens, test_texts = toy_tokens(300, 1)
    assert RP.waics(RP.read_tokens(head, test_tokens), test_texts).mean() > 0.9
    assert losses[-1] < 0.3 * losses[0]


def test_block_probe_learns_to_read_too():
    tokens, texts = toy_tokens(2000, 0)
    head, _ = RP.train_head('block', tokens, texts, (2, 12), steps=300)
    test_tokens, test_texts = toy_tokens(300, 1)
    assert RP.waics(RP.read_tokens(head, test_tokens), test_texts).mean() > 0.8


def test_probe_on_noise_reads_nothing():
    tokens, texts = toy_tokens(2000, 0, informative=False)
    head, _ = RP.train_head('linear', tokens, texts, (2, 12), steps=300)
    test_tokens, test_texts = toy_tokens(300, 1, informative=False)
    assert RP.waics(RP.read_tokens(head, test_tokens), test_texts).mean() < 0.02


def test_heldout_loss_orders_what_waics_cannot():
    """On noise both heads read nothing, but the held-out CTC loss still says which tokens
    carry the label; a label CTC cannot fit gets NaN, not a zero."""
    tokens, texts = toy_tokens(3000, 0)
    noise, noise_texts = toy_tokens(3000, 0, informative=False)
    test_tokens, test_texts = toy_tokens(300, 1)
    test_noise, _ = toy_tokens(300, 1, informative=False)
    good, _ = RP.train_head('linear', tokens, texts, (2, 12), steps=400)
    bad, _ = RP.train_head('linear', noise, noise_texts, (2, 12), steps=300)
    good_loss = RP.crop_losses(good, test_tokens, test_texts)
    bad_loss = RP.crop_losses(bad, test_noise, test_texts)
    assert np.isfinite(good_loss).all() and np.isfinite(bad_loss).all()
    assert good_loss.mean() < 0.5 < 1.5 < bad_loss.mean()
    too_long = RP.crop_losses(good, test_tokens[:2], ['a' * 13, test_texts[1]])
    assert np.isnan(too_long[0]) and np.isclose(too_long[1], good_loss[1], atol=1e-5)


def test_labels_ctc_and_decoding():
    assert RP.normalise_label('Ab-3!') == 'ab3'
    assert RP.ctc_fits(RP.encode_label('ab'), 2)
    assert not RP.ctc_fits(RP.encode_label('aa'), 2)  # a blank between the repeats
    assert not RP.ctc_fits([], 4)
    blank = len(RP.CHARSET)
    logits = torch.full((1, 5, blank + 1), -5.)
    for t, k in enumerate([10, 10, blank, 10, 11]):  # a a _ a b -> "aab"
        logits[0, t, k] = 5.
    assert RP.greedy_decode(logits) == ['aab']
    with pytest.raises(ValueError, match='none of the 1 training labels fits CTC'):
        RP.train_head('linear', np.zeros((1, 3, 4), np.float32), ['abc'], (1, 2), steps=1)
    with pytest.raises(ValueError, match="probe head kind must be one of"):
        RP.ProbeHead('mlp', 4, (1, 2), torch.zeros(4), torch.ones(4))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('reading_probe')
    config = root / 'tiny.py'
    config.write_text(TINY_CONFIG)
    synth.render_dataset(root, 48, 0, name='train')
    synth.render_dataset(root, 16, 1, name='test', masks=True)  # masks: patch attention
    cfg = load_config(str(config))
    torch.manual_seed(3)
    from mnsp_mm.analysis.model_input import load_backbone
    model = load_backbone(cfg, None)
    ckpt = root / 'pretrained.pth'  # a "pretrained" encoder: random weights, scaled up
    with torch.no_grad():
        for p in model.layers.parameters():
            p.mul_(3.)
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in model.state_dict().items()}),
               ckpt)
    return dict(root=root, config=config, cfg=cfg, ckpt=ckpt,
                train=root / 'textrecog_train.json', test=root / 'textrecog_test.json')


def test_reading_probe_end_to_end_and_vocabulary_exclusion(tiny, monkeypatch):
    monkeypatch.setitem(RP.HEADS, 'linear', dict(RP.HEADS['linear'], steps=20))
    res = RP.reading_probe(tiny['cfg'], None, tiny['train'], 48, {'test': tiny['test']}, 16,
                           kinds=('linear', ))
    r = res['linear']
    assert r['n'] == 16 and 0. <= r['low'] <= r['value'] <= r['high'] <= 1.
    assert len(r['sets']['test']['correct']) == 16 and res['grid'] == [4, 16]
    held, losses = r['heldout_loss'], [v for v in r['sets']['test']['loss'] if v is not None]
    assert len(r['sets']['test']['loss']) == 16 and losses
    assert held['low'] <= held['value'] <= held['high']
    assert held['value'] == pytest.approx(np.mean(losses))
    test_texts = [e['instances'][0]['text'] for e in
                  json.loads(tiny['test'].read_text())['data_list']]
    res = RP.reading_probe(tiny['cfg'], None, tiny['train'], 48, {'test': tiny['test']}, 16,
                           exclude_texts=set(test_texts[:10]), kinds=('linear', ))
    excluded = {RP.normalise_label(t) for t in test_texts[:10]}
    assert res['linear']['n'] == sum(RP.normalise_label(t) not in excluded for t in test_texts)
    assert res['linear']['n'] <= 6
    with pytest.raises(ValueError, match='no test crop left to score'):
        RP.reading_probe(tiny['cfg'], None, tiny['train'], 48, {'test': tiny['test']}, 16,
                         exclude_texts=set(test_texts), kinds=('linear', ))


def test_reading_probe_cli(tiny, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'reading_probe_tool', ROOT / 'tools' / 'analysis' / 'reading_probe.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setitem(RP.HEADS, 'linear', dict(RP.HEADS['linear'], steps=10))
    out = tmp_path / 'probe.json'
    tool.main([str(tiny['config']), str(tiny['ckpt']), '--train', str(tiny['train']),
               '--num-train', '48', '--test', str(tiny['test']), '--num-test', '16',
               '--heads', 'linear', '--out', str(out)])
    assert json.loads(out.read_text())['linear']['n'] == 16
    with pytest.raises(SystemExit, match='--test annotation not found'):
        tool.main([str(tiny['config']), '--train', str(tiny['train']), '--test',
                   str(tmp_path / 'none.json')])


def test_reinit_puts_back_exactly_the_named_parts(tiny, tmp_path):
    keys = list(load_encoder_state_dict(str(tiny['ckpt'])))
    assert set(part_keys('pos', keys, 2)) == {'cls_token', 'pos_embed'}
    assert part_keys('last1', keys, 2) == part_keys('block1', keys, 2)
    assert all(k.startswith('layers.1.') for k in part_keys('last1', keys, 2))
    norms = part_keys('norms', keys, 2)
    assert 'ln1.weight' in norms and 'layers.0.ln2.bias' in norms
    bn = part_keys('stem_norms', keys, 2)
    assert bn and all('running' in k or k.endswith(('weight', 'bias', 'tracked')) for k in bn)
    assert not any('projection' in k for k in bn)
    with pytest.raises(ValueError, match='the encoder has 2 blocks'):
        part_keys('block2', keys, 2)
    with pytest.raises(ValueError, match="unknown reinit part 'head'"):
        part_keys('head', keys, 2)
    pretrained = load_encoder_state_dict(str(tiny['ckpt']))
    new = reinit_encoder(tiny['cfg'], str(tiny['ckpt']), ['last1', 'stem'], seed=5)
    changed = {k[len('backbone.'):] for k, v in new.items()
               if not torch.equal(v, pretrained[k[len('backbone.'):]])}
    named = set(part_keys('last1', keys, 2)) | set(part_keys('stem', keys, 2))
    assert changed <= named  # nothing else moves; every weight matrix named does
    assert {k for k in named if pretrained[k].dim() >= 2} <= changed
    out = save_reinit(tiny['cfg'], str(tiny['ckpt']), ['pos'], tmp_path / 'r.pth')
    loaded = load_encoder_state_dict(str(out))  # loads like any checkpoint, weights only
    assert set(loaded) == set(pretrained)


def test_writes_scale_only_what_the_blocks_add(tiny):
    """``writes*<a>`` multiplies each block's attention and MLP outputs, nothing else; at 0
    the blocks add nothing to the stream."""
    from mnsp_mm.analysis.model_input import load_backbone
    pretrained = load_encoder_state_dict(str(tiny['ckpt']))
    writes = write_keys(list(pretrained))
    assert len(writes) == 2 * 4 and {k.split('.', 2)[2] for k in writes} == {
        'attn.proj.weight', 'attn.proj.bias', 'ffn.layers.1.weight', 'ffn.layers.1.bias'}
    half = reinit_encoder(tiny['cfg'], str(tiny['ckpt']), ['writes*0.5'])
    for k, v in pretrained.items():
        assert torch.equal(half[f'backbone.{k}'], v * 0.5 if k in writes else v), k
    with pytest.raises(ValueError, match=r"'writes\*-1'.*a >= 0"):
        reinit_encoder(tiny['cfg'], str(tiny['ckpt']), ['writes*-1'])
    none = reinit_encoder(tiny['cfg'], str(tiny['ckpt']), ['writes*0'])
    model = load_backbone(tiny['cfg'], None)
    model.load_state_dict({k[len('backbone.'):]: v for k, v in none.items()})
    stats = activation_stats(model.eval(), torch.randn(2, 3, 32, 128))
    assert stats['write_rms'] == [0., 0.]
    assert stats['stream_rms'][:2] == pytest.approx([stats['embed_rms']] * 2)
    assert stats['within_crop'][:3] == pytest.approx([stats['within_crop'][0]] * 3)


def test_within_crop_share():
    same = torch.randn(3, 1, 8).expand(3, 7, 8)  # every token of a crop one vector
    assert within_crop_share(same) == pytest.approx(0., abs=1e-6)
    centred = torch.randn(3, 7, 8)
    centred[:, 1:] -= centred[:, 1:].mean(1, keepdim=True)
    assert within_crop_share(centred) == pytest.approx(1.)
    # a position code, the same in every crop, varies within a crop but says nothing of it
    code = torch.randn(1, 7, 8).expand(3, 7, 8)
    assert within_crop_share(code) > .9 and content_share(code) == pytest.approx(0., abs=1e-6)
    assert content_share(centred) <= within_crop_share(centred)


def test_encoder_scales_see_the_scaled_weights(tiny):
    rnd = encoder_scales(tiny['cfg'], None, tiny['test'], num=8, seed=3)
    big = encoder_scales(tiny['cfg'], str(tiny['ckpt']), tiny['test'], num=8)
    assert summarise(big)['attn.qkv'] == pytest.approx(3 * summarise(rnd)['attn.qkv'], rel=1e-4)
    assert len(big['attention_entropy']) == 2 and len(big['stream_rms']) == 3
    assert len(big['write_rms']) == 2 and len(big['within_crop']) == len(big['content']) == 4
    assert all(0. <= s <= 1. for s in big['within_crop'])
    assert all(0. <= e <= 1. for e in rnd['attention_entropy'])
    # scaled-up attention weights make the attention more peaked
    assert np.mean(big['attention_entropy']) < np.mean(rnd['attention_entropy'])
    assert len(rnd['dead_stem_channels']) == 4  # 8x8 patches: three conv stages + the last conv


def test_random_encoder_batchnorms_get_real_statistics(tiny):
    """A random encoder's BN running statistics come from real crops before a frozen
    diagnostic reads it (otherwise eval mode does not normalise at all)."""
    from mnsp_mm.analysis.model_input import calibrate_batchnorm, load_backbone
    torch.manual_seed(0)
    model = load_backbone(tiny['cfg'], None)
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.all(bn.running_var == 1)
    x = torch.randn(4, 3, 32, 128) * 3 + 1
    weights = [p.clone() for p in model.parameters()]
    calibrate_batchnorm(model, [x])
    assert not model.training and bn.momentum == 0.1
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))
    stats = encoder_scales(tiny['cfg'], None, tiny['test'], num=8, seed=0)
    assert stats['weights']['patch_embed.convs.1.running_var'] != 1.0


def test_encoder_scales_tool(tiny, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'scales_tool', ROOT / 'tools' / 'analysis' / 'encoder_scales.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 's.json'
    tool.main([str(tiny['config']), str(tiny['ckpt']), '--crops', str(tiny['test']),
               '--num', '8', '--out', str(out)])
    assert 'content share: the same points: ' in capsys.readouterr().out
    assert len(json.loads(out.read_text())['write_rms']) == 2
    with pytest.raises(SystemExit, match='--crops not found'):
        tool.main([str(tiny['config']), '--crops', str(tmp_path / 'none.json')])


def test_patch_attention_measures_have_their_known_answers():
    from mnsp_mm.analysis.patch_attention import layer_stats, patch_distances
    grid, N = (2, 3), 6
    text = torch.tensor([[[1., 0., 0.], [0., 0., .5]]])  # glyphs on patches 0 and 5
    chance = 1.5 / 6

    def weights(rows):  # (N, N) patch rows -> (1, 1, 1 + N, 1 + N) with a [cls] row/column
        w = torch.full((1, 1, 1 + N, 1 + N), .3)
        w[0, 0, 1:, 1:] = rows
        return w
    uniform = layer_stats(weights(torch.full((N, N), 1. / N)), text)
    assert uniform['glyph_excess'].item() == pytest.approx(0., abs=1e-6)
    assert uniform['chance'].item() == pytest.approx(chance)
    assert uniform['distance_ratio'].item() == pytest.approx(1.)
    self_only = layer_stats(weights(torch.eye(N) * 7.), text)  # renormalised over patches
    assert self_only['distance'].item() == pytest.approx(0.)
    assert self_only['glyph_excess'].item() == pytest.approx(0., abs=1e-6)
    on_glyph = torch.zeros(N, N)
    on_glyph[:, 0] = 1.  # every query looks at the full glyph patch
    stats = layer_stats(weights(on_glyph), text)
    assert stats['glyph_excess'].item() == pytest.approx(1. - chance)
    d = patch_distances(grid)
    assert d[0, 5].item() == pytest.approx(5 ** .5) and stats['distance'].item() == \
        pytest.approx(d[:, 0].mean().item())
    with pytest.raises(ValueError, match='does not match attention over 6 patches'):
        layer_stats(weights(on_glyph), torch.zeros(1, 3, 3))


def test_patch_attention_of_encoders_on_rendered_crops_and_its_tool(tiny, tmp_path, capsys):
    from mnsp_mm.analysis.patch_attention import encoder_patch_attention
    stats = encoder_patch_attention(tiny['cfg'], str(tiny['ckpt']), tiny['test'], num=8,
                                    batch_size=3)
    assert len(stats['glyph_excess']) == 2 and len(stats['glyph_excess'][0]) == 8
    assert all(-1. <= v <= 1. for v in stats['glyph_excess'][-1])
    spec = importlib.util.spec_from_file_location(
        'patch_attention_tool', ROOT / 'tools' / 'analysis' / 'patch_attention.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'a.json'
    tool.main([str(tiny['config']), '--encoder', 'random=random', f'big={tiny["ckpt"]}',
               '--crops', str(tiny['test']), '--num', '8', '--reference', 'random',
               '--out', str(out)])
    printed = capsys.readouterr().out
    assert '| random |' in printed and '| big |' in printed
    saved = json.loads(out.read_text())
    big = saved['summary']['big']['last']['distance_ratio']
    assert big['low'] <= big['value'] <= big['high'] and 'diff' in big
    # the tool's per-crop values are the module's, layer by layer
    for layer in range(2):
        assert saved['per_crop']['big']['distance_ratio'][layer] == pytest.approx(
            stats['distance_ratio'][layer], rel=1e-5)
    with pytest.raises(SystemExit, match='--reference mae: not one of --encoder'):
        tool.main([str(tiny['config']), '--encoder', 'random=random', '--crops',
                   str(tiny['test']), '--reference', 'mae'])
    with pytest.raises(SystemExit, match='expected NAME=CHECKPOINT'):
        tool.main([str(tiny['config']), '--encoder', 'random', '--crops', str(tiny['test'])])
    unmasked = tmp_path / 'unmasked.json'
    data = json.loads(tiny['test'].read_text())
    for entry in data['data_list']:
        entry.pop('mask_path', None)
        entry['img_path'] = str(tiny['test'].parent / entry['img_path'])
    unmasked.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='have no mask_path'):
        encoder_patch_attention(tiny['cfg'], None, unmasked, num=4)
