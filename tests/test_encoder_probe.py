"""Label-free encoder diagnostics: ridge probe, collapse statistics, end to end and the CLI."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mnsp_mm import synth
from mnsp_mm.analysis import encoder_probe as P
from mnsp_mm.apis import load_config

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / 'tools' / 'analysis' / 'probe_encoder.py'
# The demo encoder's 8x8 patches (a 4x16 grid of a 32x128 crop), at a smaller width.
TINY_CONFIG = f"""_base_ = ['{ROOT}/configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py']
model = dict(backbone=dict(patch_size=8, arch=dict(_delete_=True, embed_dims=32, num_layers=2,
                                                   num_heads=2, feedforward_channels=64)))
"""


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Tiny config and 40 train + 20 test rendered labeled crops."""
    root = tmp_path_factory.mktemp('probe')
    config = root / 'tiny.py'
    config.write_text(TINY_CONFIG)
    synth.render_dataset(root, 40, 0, name='train')
    synth.render_dataset(root, 20, 1, name='test')
    return dict(config=config, train=root / 'textrecog_train.json',
                test=root / 'textrecog_test.json')


def load_tool():
    spec = importlib.util.spec_from_file_location('probe_encoder_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ridge_probe_separable_and_random_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (5, 20))
    y = rng.integers(0, 5, 1000)
    x = centres[y] + rng.normal(0, 1, (1000, 20))
    assert P.ridge_probe(x[:600], y[:600], x[600:], y[600:], 5).mean() > 0.95
    # the dual form (fewer items than features) reads the same problem
    wide = np.concatenate([x, rng.normal(0, 1, (1000, 300))], 1)
    assert P.ridge_probe(wide[:100], y[:100], wide[600:], y[600:], 5).mean() > 0.95
    # labels independent of the features: at chance (1/4) within sampling error
    noise = rng.normal(0, 1, (4000, 20))
    labels = rng.integers(0, 4, 4000)
    acc = P.ridge_probe(noise[:2000], labels[:2000], noise[2000:], labels[2000:], 4).mean()
    assert abs(acc - 0.25) < 0.05
    with pytest.raises(ValueError, match=r'test_y has classes outside \[0, 5\)'):
        P.ridge_probe(x[:10], y[:10], x[10:20], y[10:20] + 5, 5)


def test_collapse_stats_constant_rank_one_and_isotropic():
    rng = np.random.default_rng(0)
    constant = np.broadcast_to(rng.normal(0, 1, (1, 9, 16)), (50, 9, 16)).astype(np.float32)
    stats = P.collapse_stats(constant)
    assert stats['cls_std'] == pytest.approx(0, abs=1e-6)
    assert stats['patch_std'] == pytest.approx(0, abs=1e-6)
    assert stats['cls_effective_rank'] == pytest.approx(1.)
    assert stats['target_image_share'] == pytest.approx(0, abs=1e-6)  # a constant per position
    assert stats['patch_std_within'] > 0.5  # ... that differs between positions
    same = np.broadcast_to(rng.normal(0, 1, (50, 1, 16)), (50, 9, 16))
    assert P.collapse_stats(same)['patch_std_within'] == pytest.approx(0, abs=1e-6)
    rank_one = rng.normal(0, 1, (50, 1, 1)) * rng.normal(0, 1, (1, 9, 16)) + 3.
    stats = P.collapse_stats(rank_one)
    assert stats['cls_std'] > 0.1 and stats['cls_effective_rank'] == pytest.approx(1., abs=1e-3)
    iso = rng.normal(0, 1, (2000, 9, 16))
    stats = P.collapse_stats(iso)
    assert stats['cls_std'] == pytest.approx(1, abs=0.05)
    assert stats['patch_std'] == pytest.approx(1, abs=0.05)
    assert 15 < stats['cls_effective_rank'] <= 16 and stats['num_images'] == 2000
    assert stats['target_image_share'] == pytest.approx(1, abs=0.02)  # nothing positional
    half = iso + 3 * rng.normal(0, 1, (1, 9, 16))  # a per-position offset of variance 9
    assert 0.05 < P.collapse_stats(half)['target_image_share'] < 0.2
    with pytest.raises(ValueError, match='tokens must be'):
        P.collapse_stats(iso[:, 0])


def test_label_classes():
    assert [P.first_char_class(t) for t in ('Apple', '9lives', '#tag', '')] == [0, 35, -1, -1]
    assert [P.length_class(t) for t in ('a', 'ab', 'abcdefghijkl', 'x' * 16, '')] == \
        [0, 0, 10, 10, -1]


def test_probe_encoder_end_to_end(setup):
    cfg = load_config(str(setup['config']))
    feats = P.extract_features(cfg, None, setup['test'], 5, batch_size=2, keep_tokens=True)
    assert feats['cls'].shape == (5, 32) and feats['columns'].shape == (5, 16 * 32)
    assert feats['tokens'].shape == (5, 1 + 4 * 16, 32) and len(feats['texts']) == 5
    # columns: patch tokens averaged over the 4 grid rows, column after column
    cols = feats['tokens'][:, 1:].reshape(5, 4, 16, 32).mean(1).reshape(5, -1)
    np.testing.assert_allclose(feats['columns'], cols, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(feats['cls'], feats['tokens'][:, 0])

    result = P.probe_encoder(cfg, None, setup['train'], setup['test'], 40, 20)
    json.dumps(result)
    assert result['num_train'] == 40 and result['num_test'] == 20
    for name in ('first_char', 'length'):
        r = result[name]
        assert r['low'] <= r['value'] <= r['high'] and 0 < r['n'] <= 20
        assert 0 <= r['chance'] <= 1
    assert result['collapse']['num_images'] == 20
    assert result['collapse']['cls_effective_rank'] > 1
    # the random initialisation is seeded: the same numbers again
    again = P.probe_encoder(cfg, None, setup['train'], setup['test'], 40, 20)
    assert again == result


def test_cli_table_json_and_missing_files(setup, tmp_path, capsys):
    tool = load_tool()
    out = tmp_path / 'probe.json'
    tool.main([str(setup['config']), '--train', str(setup['train']), '--test',
               str(setup['test']), '--num-train', '20', '--num-test', '10', '--out', str(out)])
    printed = capsys.readouterr().out
    assert 'random init' in printed and 'first_char' in printed and 'effective rank' in printed
    assert json.loads(out.read_text())['length']['n'] == 10
    missing = tmp_path / 'textrecog_nope.json'
    with pytest.raises(SystemExit, match=f'--test annotation not found: {missing}'):
        tool.main([str(setup['config']), '--train', str(setup['train']), '--test',
                   str(missing)])
    with pytest.raises(SystemExit, match=f'checkpoint not found: {tmp_path / "x.pth"}'):
        tool.main([str(setup['config']), str(tmp_path / 'x.pth'), '--train',
                   str(setup['train']), '--test', str(setup['test'])])
    with pytest.raises(FileNotFoundError, match=f'annotation not found: {missing}'):
        P.extract_features(load_config(str(setup['config'])), None, missing, 4)
