"""tools/benchmark.py: the one-command benchmark, its FLOP counting and step breakdown."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mnsp_mm import bench

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    # One thread: tiny models gain nothing from more, and a busy machine punishes them.
    env = dict(os.environ, OMP_NUM_THREADS='1')
    res = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


@pytest.fixture(scope='module')
def tiny_models():
    torch.manual_seed(0)
    return {algo: bench.build_model(cfg)[2] for algo, cfg in bench.CONFIGS['tiny'].items()}


def test_benchmark_runs_at_tiny_size(tmp_path):
    out = tmp_path / 'bench.json'
    run('tools/benchmark.py', '--tiny', '--algos', 'mnsp', '--steps', '1', '--warmup', '0',
        '--batch', '2', '--profile-repeats', '1', '--stall-steps', '1', '--decode-batch', '2',
        '--interleave', '1', '--levers', 'fp32', 'bf16', '--lever-threads', '1',
        '--lever-rounds', '1', '--out', out)
    result = json.loads(out.read_text())
    assert set(result['results']) == {'mnsp'} and result['matmul_peak_gflops'] > 0
    for r in result['results'].values():
        assert r['step_s'] > 0 and r['peak_mb'] > 0
        assert r['flops']['forward_gmac'] > 0 and 0 < r['fraction_of_peak'] < 1
        assert 0 <= r['stall']['stall_fraction'] < 1 and r['breakdown']
        shares = r['op_shares']
        assert shares['matmul_s'] > 0 and shares['other_s'] > 0 and shares['ops']
    assert result['results']['mnsp']['flops']['teacher_gmac'] > 0
    assert len(result['interleaved']['mnsp']['step_times']) == 1
    rec = result['recognizer']
    assert 0 <= rec['stall']['stall_fraction'] < 1
    dec = rec['decoding']
    assert dec['same_predictions'] and [r['steps'] for r in dec['rows']][:2] == [25, 25]
    assert all(r['images_per_s'] > 0 and r['latency_s'] > 0 for r in dec['rows'])
    assert rec['flops']['decoder_cached_gmac'] < rec['flops']['decoder_full_gmac']
    table = out.with_suffix('.md').read_text()
    for text in ('| mnsp |', '% of peak', 'fine-tuning (MAERec)', 'early exit',
                 'NSP decoder + loss', 'GFLOP = 2 x GMAC',
                 'Steps taken in turn', 'Time in dense products', 'Speed levers',
                 '| mnsp | bf16 | 1 |'):
        assert text in table, text


def test_sdpa_flops_are_counted():
    class Attend(torch.nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    total, _ = bench.count_macs(Attend(), (q, k, v))
    assert total == 2 * 3 * 5 * 7 * (8 + 4)


def test_flops_separate_the_frozen_teacher(tiny_models):
    mae = bench.pretrain_flops(tiny_models['mae'], 'cpu')
    lmim = bench.pretrain_flops(tiny_models['lmim'], 'cpu')
    assert mae['teacher_gmac'] == 0 and mae['train_gflop'] == pytest.approx(6 * mae['forward_gmac'])
    assert 0 < lmim['teacher_gmac'] < lmim['forward_gmac']
    assert lmim['train_gflop'] == pytest.approx(
        2 * (3 * (lmim['forward_gmac'] - lmim['teacher_gmac']) + lmim['teacher_gmac']))


@pytest.mark.parametrize('algo', ['mae', 'lmim'])  # mnsp: in the run above
def test_breakdown_times_every_part(tiny_models, algo):
    model = tiny_models[algo].train()
    opt = bench.make_optimizer(model)
    rows = bench.breakdown(model, opt, bench.dummy_inputs(model, 2), 1, 'cpu', None)
    names = [r['part'] for r in rows]
    assert names[-1] == 'optimizer (AdamW)' and len(names) == {'mae': 3, 'lmim': 5}[algo]
    assert all(r['forward_s'] >= 0 and r['backward_s'] >= 0 for r in rows)
    assert all(p.grad is None for p in model.parameters())


def test_nsp_loss_projects_the_context_once_with_the_same_result(tiny_models):
    """The prefix-by-prefix projection it replaced gives the same loss."""
    model = tiny_models['mnsp'].eval()
    views = bench.dummy_inputs(model, 2)
    with torch.no_grad():
        targets = model.target_generator.pyramid(views, model.grids)
        context, sizes = model.encode_coarse(views[:-1])
        got = model.nsp_loss(context, sizes, targets)
        ends = torch.tensor(sizes).cumsum(0).tolist()
        neck, losses = model.nsp_neck, []
        for k in range(len(model.grids) - 1):
            (h, w), nxt = model.grids[k], model.grids[k + 1]
            feats = context[:, ends[k] - sizes[k] + 1:ends[k]]
            fmap = feats.transpose(1, 2).reshape(2, -1, h, w)
            up = F.interpolate(fmap, size=nxt, mode='nearest').flatten(2).transpose(1, 2)
            pred = neck.decode(neck.embed(up) + neck.positions(nxt),
                               neck.context_embed(context[:, :ends[k]]))
            losses.append(model.head.loss(pred, targets[k + 1]))
    assert torch.allclose(got, torch.stack(losses).mean(), atol=1e-6)
    assert neck.positions(model.grids[1]) is neck.positions(model.grids[1])  # cached


@pytest.mark.filterwarnings('ignore::FutureWarning')  # imgaug 0.4.0 on scikit-image 0.26
def test_guidance_rows_per_preset_and_the_imgaug_reference():
    result = dict(machine=dict(date='now', load_average=0.0),
                  guidance=bench.bench_guidance(crops=2, gpu_step_s=0.1, gpu_batch=64,
                                                passes=1))
    rows = result['guidance']['rows']
    assert [(r['preset'], r['size']) for r in rows] == [
        (p, s) for s in ('32x128', '64x256')
        for p in ('official', 'weak', 'strong', 'official, imgaug (reference)')]
    for r in rows:
        assert r['ms_per_crop'] > 0
        assert 0 <= r['workers_per_gpu'] - 0.64 * r['ms_per_crop'] < 1 + 1e-9  # ceil(64 s / 0.1)
    table = bench.guidance_table(result)
    assert len(table) == 4 + len(rows) and '| official | 32x128 |' in table[4]


@pytest.mark.parametrize('algo', ['mae', 'lmim', 'mnsp', 'mnsp+guidance'])
def test_breakdown_is_the_models_own_loss(tiny_models, algo):
    """Every op of the model's loss falls in a part it marks: none is left outside them."""
    model = tiny_models[algo.split('+')[0]].train()
    if algo == 'mnsp+guidance':
        model.use_guidance = True
    try:
        result = bench.profile_step(model, bench.dummy_inputs(model, 2), 'cpu', None)
    finally:
        model.use_guidance = False
        model.zero_grad(set_to_none=True)
    assert result['outside'] == [], result['outside']
    expected = {'mae': ['encoder, masked view', 'decoder + loss'],
                'lmim': ['teacher (no grad)', 'encoder, masked view', 'encoder, guidance view',
                         'decoder + loss + alignment'],
                'mnsp': ['teacher (no grad, once)', 'encoder, coarse scales (block-causal)',
                         'NSP decoder + loss', 'encoder, full scale masked',
                         'MIM decoder + loss', 'MLA']}
    names = expected[algo.split('+')[0]]
    if algo == 'mnsp+guidance':
        names = names[:2] + ['encoder, guidance view'] + names[2:]
    assert list(result['parts']) == names
    trained = [n for n in names if not n.startswith('teacher')]
    assert all(result['parts'][n][1] > 0 for n in trained)  # each part's backward is found


def test_breakdown_shows_work_the_model_did_not_mark(tiny_models, monkeypatch):
    """A loss term added outside the marked parts appears as its own row."""
    model = tiny_models['mae'].train()
    loss = type(model).loss

    def with_extra_term(self, inputs, data_samples):
        losses = loss(self, inputs, data_samples)
        losses['loss_extra'] = self.backbone.cls_token.square().mean()
        return losses
    monkeypatch.setattr(type(model), 'loss', with_extra_term)
    result = bench.profile_step(model, bench.dummy_inputs(model, 2), 'cpu', None)
    model.zero_grad(set_to_none=True)
    assert result['outside'] and bench.OUTSIDE in result['parts']


def test_an_algorithm_without_dummy_inputs_is_named():
    with pytest.raises(TypeError, match='Linear has no dummy_inputs'):
        bench.dummy_inputs(torch.nn.Linear(2, 2), 2)


def test_the_child_process_entry_says_how_to_run_it():
    res = subprocess.run([sys.executable, '-m', 'mnsp_mm.bench'], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode != 0 and 'started by tools/benchmark.py' in res.stderr


def test_levers_take_the_same_step_and_name_what_they_refuse():
    """Each lever is built from the same weights and takes the first step on the same masks:
    the channels-last stem is fp32's loss to rounding, bf16 close to it; bad names are refused."""
    config = {'mae': bench.CONFIGS['demo']['mae']}
    rows = bench.lever_rows(config, 2, 1, ['fp32', 'cl', 'cl+bf16'], [1])
    by = {r['lever']: r for r in rows}
    assert set(by) == {'fp32', 'cl', 'cl+bf16'} and by['fp32']['x_fp32'] == 1
    assert by['cl']['loss_rel_diff'] < 1e-4 and by['cl+bf16']['loss_rel_diff'] < 2e-2
    assert all(r['median_s'] > 0 and len(r['step_times']) == 1 and r['compile_s'] == 0
               for r in rows)
    assert torch.get_num_threads() >= 1
    with pytest.raises(ValueError, match="unknown lever.*'fp16'.*'cl\\+bf16'"):
        bench.lever_rows(config, 2, 1, ['fp32', 'fp16'], [1])
    with pytest.raises(ValueError, match="lack 'fp32'"):
        bench.lever_rows(config, 2, 1, ['bf16'], [1])
    with pytest.raises(ValueError, match='threads must be positive'):
        bench.lever_rows(config, 2, 1, ['fp32'], [0])
    with pytest.raises(ValueError, match="stem_channels_last=True needs stem='conv'"):
        bench.lever_rows({'mae': bench.CONFIGS['tiny']['mae']}, 2, 1, ['fp32', 'cl'], [1])
    # fp32 is every switch off, also where the config turns one on (the demo's do)
    from mnsp_mm.bench.levers import channels_last_options
    assert channels_last_options(bench.CONFIGS['demo']['lmim'], False) == {
        'model.backbone.stem_channels_last': False,
        'model.target_generator.backbone.stem_channels_last': False}
    assert channels_last_options(bench.CONFIGS['tiny']['mae'], False) == {}


def test_mnsp_ablations_take_a_step_in_the_interleaved_rounds():
    """`make bench` prices MNSP's ablations beside the methods: each builds with random
    teachers and takes a step on the inputs its pipeline packs (demo size here: the paper
    size is the same code on ViT-S configs, which only need to load)."""
    from mnsp_mm.apis import load_config
    for config in bench.ABLATION_CONFIGS['paper'].values():
        assert load_config(str(ROOT / config)).model.type == 'MNSP', config
    configs = bench.ABLATION_CONFIGS['demo']
    runs = bench.interleaved(configs, 2, 1, 0, 'cpu', None)
    assert set(runs) == set(configs)
    assert all(r['median_s'] > 0 and len(r['step_times']) == 1 for r in runs.values())
