"""Tests of the synthetic text-crop renderer (mnsp_mm/synth/, tools/render_synth.py)."""
import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import lmdb
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LUMA = np.array([0.299, 0.587, 0.114])


from mnsp_mm import synth  # noqa: E402


def _same(a, b):
    return a.text == b.text and a.font == b.font and a.image.tobytes() == b.image.tobytes() \
        and a.mask.tobytes() == b.mask.tobytes()


def test_charset_is_mmocr_english_digits_symbols():
    spec = importlib.util.find_spec('mmocr')  # locates the package without importing it
    if spec is None:
        pytest.skip('mmocr is not installed')
    dict_file = Path(spec.origin).parent / '.mim' / 'dicts' / 'english_digits_symbols.txt'
    assert dict_file.read_text().split('\n') == list(synth.CHARSET)


def test_module_import_stays_light():
    # the package alone, without mnsp_mm/__init__ (which registers the OpenMMLab modules)
    code = ('import sys, types\n'
            'pkg = types.ModuleType("mnsp_mm")\n'
            f'pkg.__path__ = [{str(ROOT / "mnsp_mm")!r}]\n'
            'sys.modules["mnsp_mm"] = pkg\n'
            'import mnsp_mm.synth as s\n'
            's.render_sample(0)\n'
            'heavy = {"torch", "mmengine", "mmocr", "mmpretrain", "mmcv", "matplotlib"}\n'
            'print(sorted(heavy & set(sys.modules)))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == '[]'


def test_same_seed_same_bytes_other_seed_differs():
    cfg = synth.preset('default')
    for seed in (0, 7, (3, 11)):
        assert _same(synth.render_sample(seed, cfg), synth.render_sample(seed, cfg))
    a, b = synth.render_sample(1, cfg), synth.render_sample(2, cfg)
    assert a.image.tobytes() != b.image.tobytes()
    texts = {synth.render_sample((5, i), cfg).text for i in range(20)}
    assert len(texts) >= 15


def test_sample_i_depends_only_on_seed_and_index():
    cfg = synth.preset('default')
    serial = list(synth.iter_samples(6, 3, cfg))
    assert _same(serial[4], synth.render_sample((3, 4), cfg))
    parallel = list(synth.iter_samples(6, 3, cfg, workers=2))
    assert all(_same(a, b) for a, b in zip(serial, parallel)) and len(parallel) == 6
    with synth.render_pool(2) as pool:  # one pool shared by several data sets
        shared = list(synth.iter_samples(6, 3, cfg, pool=pool))
        other = list(synth.iter_samples(2, 4, cfg, pool=pool))
    assert all(_same(a, b) for a, b in zip(serial, shared)) and len(shared) == 6
    assert _same(other[1], synth.render_sample((4, 1), cfg))


@pytest.mark.parametrize('height,width', [(32, 128), (48, 160)])
def test_shapes_and_dtypes(height, width):
    cfg = replace(synth.preset('default'), height=height, width=width)
    for i in range(5):
        s = synth.render_sample((0, i), cfg)
        assert s.image.shape == (height, width, 3) and s.image.dtype == np.uint8
        assert s.mask.shape == (height, width) and s.mask.dtype == np.uint8
        assert set(np.unique(s.mask)) <= {0, 255}
        assert s.font in synth.font_names('train') and isinstance(s.text, str)


@pytest.mark.parametrize('min_len,max_len', [(1, 25), (1, 1), (3, 6), (20, 25)])
def test_text_charset_and_length_bounds(min_len, max_len):
    cfg = synth.SynthConfig(min_len=min_len, max_len=max_len)
    rng = np.random.default_rng(0)
    texts = [synth.random_text(rng, cfg) for _ in range(400)]
    assert all(set(t) <= set(synth.CHARSET) for t in texts)
    assert all(min_len <= len(t) <= max_len for t in texts)
    if (min_len, max_len) == (1, 25):
        assert any(t.isdigit() for t in texts)
        assert any(t.isalpha() and t.isupper() for t in texts)
        assert any(t.isalpha() and not t.islower() and not t.isupper() for t in texts)
        assert any(set(t) & set("'$#-@%.") for t in texts)
        assert max(map(len, texts)) >= 20


def test_lowercase_labels_only_and_cli_flag(tmp_path):
    cfg = synth.SynthConfig(lowercase=True)
    rng, mixed = np.random.default_rng(0), np.random.default_rng(0)
    texts = [synth.random_text(rng, cfg) for _ in range(300)]
    assert all(t == t.lower() for t in texts) and any(c.isalpha() for t in texts for c in t)
    # the same draws as without the flag, lower-cased (lowercase changes nothing else)
    assert texts == [synth.random_text(mixed, synth.SynthConfig()).lower() for _ in range(300)]
    out = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'render_synth.py'), '--out', str(tmp_path),
         '--num', '8', '--seed', '3', '--lowercase'], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / 'textrecog_train.json').read_text())
    assert [e['instances'][0]['text'] for e in data['data_list']] == \
        [synth.render_sample((3, i), cfg).text for i in range(8)]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError):
        synth.SynthConfig(min_len=0)
    with pytest.raises(ValueError):
        synth.SynthConfig(min_len=9, max_len=4)
    with pytest.raises(ValueError, match='NoSuchFont'):
        synth.SynthConfig(fonts=('NoSuchFont',))
    with pytest.raises(ValueError, match='vocab'):
        synth.SynthConfig(vocab='dev')
    with pytest.raises(ValueError, match='font_split'):
        synth.SynthConfig(font_split='test')
    with pytest.raises(ValueError):
        synth.preset('no_such_preset')


def test_fonts_are_discovered():
    installed = synth.available_fonts()
    assert 'PillowDefault' in installed and 'DejaVuSans' in installed
    assert len(installed) >= 10


def test_mask_is_aligned_with_the_glyphs():
    """Mean colour under the mask differs clearly from outside it, and on flat clean crops
    nearly every mask pixel differs from the background colour."""
    for i in range(30):
        s = synth.render_sample((9, i), synth.preset('default'))
        m = s.mask > 0
        assert 0 < m.mean() < 0.8
        y = s.image @ LUMA
        assert abs(y[m].mean() - y[~m].mean()) > 20, (i, s.text)
    clean = replace(synth.preset('regular'), backgrounds={'flat': 1.0}, p_noise=0.0)
    for i in range(30):
        s = synth.render_sample((9, i), clean)
        m = s.mask > 0
        y = s.image @ LUMA
        bg = np.median(y[~m])
        assert (np.abs(y[m] - bg) > 30).mean() > 0.9, (i, s.text)
        shifted = np.roll(m, m.shape[1] // 2, axis=1)  # a misaligned mask must score worse
        assert (np.abs(y[shifted] - bg) > 30).mean() < (np.abs(y[m] - bg) > 30).mean()


def test_gradient_background_never_crosses_the_text_colour():
    # A low min_contrast leaves room on both sides of the text colour: a gradient that ran
    # from darker to brighter than the text would hide it in the middle.
    cfg = replace(synth.preset('regular'), backgrounds={'gradient': 1.0}, p_noise=0.0,
                  min_contrast=50.0)
    for i in range(100):
        s = synth.render_sample((12, i), cfg)
        m = s.mask > 0
        y = s.image @ LUMA
        assert abs(y[m].mean() - y[~m].mean()) > 25, (i, s.text)


@pytest.mark.parametrize('name', ['default', 'regular', 'curved', 'rotated', 'perspective',
                                  'low_res', 'long_words', 'unusual_fonts',
                                  'held_out_fonts'])
def test_every_preset_renders(name):
    cfg = synth.preset(name)
    for i in range(6):
        s = synth.render_sample((4, i), cfg)
        assert s.image.shape == (32, 128, 3) and s.mask.any()
        assert cfg.min_len <= len(s.text) <= cfg.max_len
        if name == 'long_words':
            assert len(s.text) >= 12
        if name == 'unusual_fonts':
            assert s.font in synth.UNUSUAL_FONTS
        if name == 'regular':
            assert s.font in synth.COMMON_FONTS
        if name == 'held_out_fonts':
            assert s.font in synth.font_names('heldout')


def test_fonts_with_tex_layout_never_get_characters_they_draw_wrong():
    cfg = replace(synth.preset('unusual_fonts'), text_kinds={'random': 1.0})
    for i in range(40):
        s = synth.render_sample((6, i), cfg)
        if s.font in ('cmr10', 'cmb10', 'cmss10'):
            assert not set(s.text) & set('"<>\\_`~')


def test_json_layout(tmp_path):
    samples = [synth.render_sample((2, i)) for i in range(5)]
    ann = synth.write_textrecog_json(tmp_path, samples, name='train', masks=True)
    assert ann == tmp_path / 'textrecog_train.json'
    data = json.loads(ann.read_text())
    assert set(data) == {'metainfo', 'data_list'}
    assert data['metainfo'] == {'dataset_type': 'TextRecogDataset', 'task_name': 'textrecog'}
    assert len(data['data_list']) == 5
    for i, (entry, s) in enumerate(zip(data['data_list'], samples)):
        assert entry == {'img_path': f'imgs/train/{i:06d}.png', 'instances': [{'text': s.text}],
                         'mask_path': f'masks/train/{i:06d}.png', 'font': s.font}
        img = cv2.imread(str(tmp_path / entry['img_path']), cv2.IMREAD_COLOR)
        assert np.array_equal(img[..., ::-1], s.image)
        mask = cv2.imread(str(tmp_path / entry['mask_path']), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(mask, s.mask)


def test_json_unlabeled_has_no_text(tmp_path):
    sample = synth.render_sample(0)
    ann = synth.write_textrecog_json(tmp_path, [sample], name='val', labeled=False)
    entry = json.loads(ann.read_text())['data_list'][0]
    assert entry == {'img_path': 'imgs/val/000000.png', 'instances': [], 'font': sample.font}
    assert (tmp_path / 'imgs' / 'val' / '000000.png').is_file()


def test_lmdb_layout_and_map_growth(tmp_path):
    samples = [synth.render_sample((8, i)) for i in range(12)]
    writer = synth.LmdbWriter(tmp_path / 'db', masks=True, map_size=1 << 16, commit_every=5)
    for s in samples:
        writer.add(s)
    writer.close()
    env = lmdb.open(str(tmp_path / 'db'), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b'num-samples') == b'12'
        assert txn.get(b'image-000000000') is None and txn.get(b'image-000000013') is None
        for i, s in enumerate(samples, start=1):
            buf = np.frombuffer(txn.get(f'image-{i:09d}'.encode()), np.uint8)
            assert np.array_equal(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1], s.image)
            assert txn.get(f'label-{i:09d}'.encode()).decode('utf-8') == s.text
            mask = np.frombuffer(txn.get(f'mask-{i:09d}'.encode()), np.uint8)
            assert np.array_equal(cv2.imdecode(mask, cv2.IMREAD_UNCHANGED), s.mask)
    assert env.stat()['entries'] == 1 + 3 * 12
    stored = sum(len(value) for _, value in env.begin().cursor())
    assert stored > 1 << 16 and env.info()['map_size'] > stored  # the map had to grow
    env.close()


def test_lmdb_unlabeled_overwrites(tmp_path):
    synth.write_lmdb(tmp_path, [synth.render_sample((1, i)) for i in range(4)])
    synth.write_lmdb(tmp_path, [synth.render_sample((1, i)) for i in range(2)], labeled=False)
    env = lmdb.open(str(tmp_path), readonly=True, lock=False)
    with env.begin() as txn:
        keys = sorted(k.decode() for k, _ in txn.cursor())
    env.close()
    assert keys == ['image-000000001', 'image-000000002', 'num-samples']


def test_render_dataset_both_formats_agree(tmp_path):
    cfg = synth.preset('regular')
    paths = synth.render_dataset(tmp_path, 4, seed=1, cfg=cfg, fmt=('json', 'lmdb'))
    assert paths == {'json': tmp_path / 'textrecog_train.json',
                     'lmdb': tmp_path / 'lmdb' / 'train'}
    texts = [e['instances'][0]['text']
             for e in json.loads(paths['json'].read_text())['data_list']]
    assert texts == [synth.render_sample((1, i), cfg).text for i in range(4)]
    env = lmdb.open(str(paths['lmdb']), readonly=True, lock=False)
    with env.begin() as txn:
        assert [txn.get(f'label-{i:09d}'.encode()).decode() for i in range(1, 5)] == texts
    env.close()
    with pytest.raises(ValueError):
        synth.render_dataset(tmp_path, 1, seed=0, fmt=('csv',))


def test_cli_end_to_end(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'render_synth.py'), '--out', str(tmp_path),
         '--num', '6', '--seed', '2', '--format', 'both', '--masks', '--profile', 'curved'],
        capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 1 and out.stdout.startswith('wrote 6 ')
    data = json.loads((tmp_path / 'textrecog_train.json').read_text())
    cfg = synth.preset('curved')
    assert [e['instances'][0]['text'] for e in data['data_list']] == \
        [synth.render_sample((2, i), cfg).text for i in range(6)]
    assert all((tmp_path / e['mask_path']).is_file() for e in data['data_list'])
    img = cv2.imread(str(tmp_path / data['data_list'][5]['img_path']))
    assert np.array_equal(img[..., ::-1], synth.render_sample((2, 5), cfg).image)
    env = lmdb.open(str(tmp_path / 'lmdb' / 'train'), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b'num-samples') == b'6'
    env.close()


def test_text_kinds_spec_parses_and_names_bad_items():
    assert synth.parse_text_kinds('word=0.85, digits=0.15') == {'word': 0.85, 'digits': 0.15}
    for bad in ('word', 'words=1', 'word=-1', 'word=x', ''):
        with pytest.raises(ValueError, match='text kinds'):
            synth.parse_text_kinds(bad)
    cfg = replace(synth.preset('regular'), text_kinds=synth.parse_text_kinds('digits=1'))
    assert all(synth.render_sample((0, i), cfg).text.isdigit() for i in range(5))


# ----------------------------------------------------------------------------- reading (#14)

def test_vocabulary_is_large_and_its_splits_are_disjoint():
    train, test = synth.vocabulary('train'), synth.vocabulary('test')
    assert len(train) >= 30000 and len(test) >= 3000
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(synth.vocabulary('all'))
    assert all(synth.word_split(w) == 'test' for w in test[:200])
    # the split is the word's own: the same whatever list it comes in
    assert synth.word_split('house') == synth.word_split('house')
    with pytest.raises(ValueError, match='dev'):
        synth.vocabulary('dev')


def test_test_vocabulary_words_never_become_training_labels():
    """Labels made of words (single or compound) from the two splits never coincide."""
    kinds = {'word': 1.0, 'compound': 0.3}
    train_cfg = replace(synth.preset('default'), text_kinds=kinds, fold_labels=True)
    test_cfg = replace(train_cfg, vocab='test', min_len=2, max_len=10)
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(1)
    train = {synth.random_text(rng_a, train_cfg) for _ in range(3000)}
    test = {synth.random_text(rng_b, test_cfg) for _ in range(600)}
    assert not train & test
    words_cfg = replace(test_cfg, text_kinds={'word': 1.0})
    words = {synth.random_text(rng_b, words_cfg) for _ in range(300)}
    assert words <= set(synth.vocabulary('test'))


def test_fold_labels_keeps_mixed_case_in_the_image():
    cfg = replace(synth.preset('regular'), text_kinds={'word': 1.0}, fold_labels=True)
    rng = np.random.default_rng(3)
    drawn = [synth.drawn_text(rng, cfg) for _ in range(200)]
    assert any(t != t.lower() for t in drawn)  # upper and capitalised words are drawn
    rng = np.random.default_rng(3)
    assert [synth.random_text(rng, cfg) for _ in range(200)] == [t.lower() for t in drawn]
    assert all(synth.render_sample((1, i), cfg).text.islower() for i in range(10))


def test_held_out_fonts_are_whole_families_never_used_for_training():
    catalogue = synth.font_catalogue()
    heldout, train = synth.font_names('heldout'), synth.font_names('train')
    assert len(catalogue) >= 100, 'tools/setup_env.sh installs the Debian font packages'
    assert len(heldout) >= 10 and not set(heldout) & set(train)
    families = {split: {catalogue[n].family for n in names}
                for split, names in (('heldout', heldout), ('train', train))}
    assert not families['heldout'] & families['train']
    assert set(synth.BUNDLED_FONTS) & set(catalogue) <= set(train)
    record = synth.font_split_record()
    assert set(record['heldout']) == families['heldout']
    cfg = replace(synth.preset('default'), fold_labels=True)
    used = {synth.render_sample((2, i), cfg).font for i in range(300)}
    assert used <= set(train) and len(used) >= 50
