"""Tests for UnlabeledTextDataset and LoadTextImage (all data generated in tmp_path)."""
import io
import json
import os
import pickle

import cv2
import lmdb
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mnsp_mm.datasets as mds
from mnsp_mm.datasets import LoadTextImage, TextImageLoadError, UnlabeledTextDataset
from mnsp_mm.datasets import transforms as tf_mod


@pytest.fixture(autouse=True)
def _scope_and_counters():
    init_default_scope('mmpretrain')
    LoadTextImage.reset_skipped()
    np.random.seed(0)
    yield
    LoadTextImage.reset_skipped()


def _img(h=16, w=48, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3), dtype=np.uint8)


def _write(path, arr=None, ext=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arr = _img() if arr is None else arr
    ok, enc = cv2.imencode(ext or os.path.splitext(path)[1], arr)
    assert ok
    with open(path, 'wb') as f:
        f.write(enc.tobytes())
    return str(path)


def _encode(arr, ext='.png'):
    return cv2.imencode(ext, arr)[1].tobytes()


def _make_lmdb(path, n_images, num_samples=None, labels=False):
    os.makedirs(str(path), exist_ok=True)
    env = lmdb.open(str(path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(1, n_images + 1):
            txn.put(b'image-%09d' % i, _encode(_img(seed=i)))
            if labels:
                txn.put(b'label-%09d' % i, b'word%d' % i)
        if num_samples is not False:
            n = n_images if num_samples is None else num_samples
            txn.put(b'num-samples', str(n).encode())
    env.close()
    return str(path)


def _load_pipeline(**kw):
    return [dict(type='LoadTextImage', **kw)]


# ------------------------------------------------------------------ enumeration
def test_folder_recursive_sorted_and_filtered(tmp_path):
    root = tmp_path / 'crops'
    _write(str(root / 'b' / 'z.png'))
    _write(str(root / 'b' / 'a.JPG'), ext='.jpg')
    _write(str(root / 'a.bmp'))
    _write(str(root / 'c' / 'd' / 'x.TIFF'), ext='.tiff')
    (root / 'notes.txt').write_text('not an image')
    ds = UnlabeledTextDataset(sources=[str(root)])
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    rel = [os.path.relpath(p, root) for p in paths]
    assert rel == ['a.bmp', os.path.join('b', 'a.JPG'), os.path.join('b', 'z.png'),
                   os.path.join('c', 'd', 'x.TIFF')]
    assert ds.get_data_info(2)['sample_idx'] == 2


def test_list_file_comments_blank_and_relative(tmp_path):
    imgs = tmp_path / 'imgs'
    a = _write(str(imgs / 'a.png'))
    lst = tmp_path / 'list.txt'
    lst.write_text(f'# header\n\nimgs/a.png\n  imgs/b.png  \n{a}\n# tail\n')
    ds = UnlabeledTextDataset(sources=[str(lst)], serialize_data=False)
    assert len(ds) == 3
    assert ds.get_data_info(0)['img_path'] == os.path.join(str(tmp_path), 'imgs/a.png')
    assert ds.get_data_info(1)['img_path'] == os.path.join(str(tmp_path), 'imgs/b.png')
    assert ds.get_data_info(2)['img_path'] == a  # absolute kept
    # explicit per-source data_root
    ds2 = UnlabeledTextDataset(sources=[dict(type='list', path=str(lst), data_root='/r')])
    assert ds2.get_data_info(0)['img_path'] == '/r/imgs/a.png'


def test_mmocr_json_source(tmp_path):
    _write(str(tmp_path / 'textrecog_imgs' / 'w1.png'))
    ann = dict(metainfo=dict(dataset_type='TextRecogDataset', task_name='textrecog'),
               data_list=[dict(img_path='textrecog_imgs/w1.png',
                               instances=[dict(text='hello')]),
                          dict(img_path='textrecog_imgs/w2.png',
                               instances=[dict(text='world')])])
    (tmp_path / 'train.json').write_text(json.dumps(ann))
    ds = UnlabeledTextDataset(ann_file='train.json', data_root=str(tmp_path))
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['img_path'] == os.path.join(str(tmp_path), 'textrecog_imgs/w2.png')
    assert 'instances' not in info


def test_lmdb_one_based_keys_and_labeled_lmdb(tmp_path):
    unl = _make_lmdb(tmp_path / 'u_lmdb', 3)
    lab = _make_lmdb(tmp_path / 'l_lmdb', 2, labels=True)
    ds = UnlabeledTextDataset(sources=[unl, dict(path=lab)],
                              pipeline=_load_pipeline(channel_order='bgr'))
    assert len(ds) == 5
    assert ds.get_data_info(0) == dict(lmdb_path=unl, lmdb_key='image-000000001',
                                       sample_idx=0)
    assert ds.get_data_info(2)['lmdb_key'] == 'image-000000003'
    assert ds.get_data_info(3) == dict(lmdb_path=lab, lmdb_key='image-000000001',
                                       sample_idx=3)
    out = ds[3]
    assert np.array_equal(out['img'], _img(seed=1))  # PNG is lossless, bgr as written
    assert 'gt_label' not in out and 'text' not in out
    # dataset stays picklable after LMDB reads (no env stored on it)
    ds2 = pickle.loads(pickle.dumps(ds))
    assert len(ds2) == 5


def test_lmdb_root_with_several_lmdbs_and_mdb_file(tmp_path):
    _make_lmdb(tmp_path / 'U' / 'book32_lmdb', 2)
    _make_lmdb(tmp_path / 'U' / 'cc_lmdb', 3)
    ds = UnlabeledTextDataset(sources=[dict(type='lmdb', path=str(tmp_path / 'U'))])
    assert len(ds) == 5
    assert ds.get_data_info(2)['lmdb_path'].endswith('cc_lmdb')
    ds = UnlabeledTextDataset(sources=[str(tmp_path / 'U' / 'cc_lmdb' / 'data.mdb')])
    assert len(ds) == 3 and ds.get_data_info(0)['lmdb_path'].endswith('cc_lmdb')
    # a plain path: a folder without images is the LMDBs below it (the rule infer.py shares)
    ds = UnlabeledTextDataset(sources=[str(tmp_path / 'U')], max_samples=4)
    assert len(ds) == 4 and ds.get_data_info(3)['lmdb_path'].endswith('cc_lmdb')


def test_concatenation_and_max_samples(tmp_path):
    folder = tmp_path / 'f'
    for i in range(3):
        _write(str(folder / f'{i}.png'), _img(seed=i))
    lm = _make_lmdb(tmp_path / 'lm', 4)
    ds = UnlabeledTextDataset(sources=[str(folder), lm])
    assert len(ds) == 7
    assert 'img_path' in ds.get_data_info(2) and 'lmdb_key' in ds.get_data_info(3)
    assert len(UnlabeledTextDataset(sources=[str(folder), lm], max_samples=5)) == 5
    assert len(UnlabeledTextDataset(sources=[str(folder), lm], max_samples=2)) == 2
    ds = UnlabeledTextDataset(sources=[dict(path=str(folder), max_samples=1), lm])
    assert len(ds) == 5 and ds.get_data_info(1)['lmdb_key'] == 'image-000000001'
    # serialize_data on/off and mmengine `indices` agree
    ds_plain = UnlabeledTextDataset(sources=[str(folder), lm], serialize_data=False)
    ds_ser = UnlabeledTextDataset(sources=[str(folder), lm])
    assert [ds_plain.get_data_info(i) for i in range(7)] == \
        [ds_ser.get_data_info(i) for i in range(7)]
    sub = UnlabeledTextDataset(sources=[str(folder), lm], indices=[6, 0])
    assert sub.get_data_info(0)['lmdb_key'] == 'image-000000004'


def test_registered_and_buildable_from_config(tmp_path):
    from mmocr.registry import DATASETS as OCR_DATASETS
    from mmocr.registry import TRANSFORMS as OCR_TRANSFORMS
    from mmpretrain.registry import DATASETS

    _write(str(tmp_path / 'a.png'))
    ds = DATASETS.build(dict(type='UnlabeledTextDataset', sources=[str(tmp_path)],
                             pipeline=_load_pipeline()))
    assert ds[0]['img'].shape == (16, 48, 3)
    assert OCR_DATASETS.get('UnlabeledTextDataset') is UnlabeledTextDataset
    assert OCR_TRANSFORMS.get('LoadTextImage') is LoadTextImage


# ----------------------------------------------------------------- clear errors
def test_missing_root_and_bad_sources_raise_naming_path(tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(FileNotFoundError, match='nope'):
        UnlabeledTextDataset(sources=[missing])
    with pytest.raises(FileNotFoundError, match='nope'):
        UnlabeledTextDataset(sources=[dict(type='folder', path=missing)])
    bad = _make_lmdb(tmp_path / 'no_count', 2, num_samples=False)
    with pytest.raises(ValueError, match='no_count.*num-samples'):
        UnlabeledTextDataset(sources=[bad])
    lst = tmp_path / 'bin.txt'
    lst.write_bytes(b'\xff\xfe\x00bad')
    with pytest.raises(ValueError, match='bin.txt'):
        UnlabeledTextDataset(sources=[str(lst)])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no samples'):
        UnlabeledTextDataset(sources=[str(tmp_path / 'empty')])


# --------------------------------------------------------------- broken images
def _broken_list(tmp_path):
    good1 = _write(str(tmp_path / 'good1.png'), _img(seed=1))
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(np.random.RandomState(5).bytes(2000))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    jpg = _encode(_img(64, 64, seed=2), '.jpg')
    trunc = tmp_path / 'trunc.jpg'
    trunc.write_bytes(jpg[:len(jpg) // 2])
    good2 = _write(str(tmp_path / 'good2.jpg'), _img(seed=3))
    lst = tmp_path / 'list.txt'
    lst.write_text('\n'.join(['good1.png', 'corrupt.jpg', 'empty.png', 'missing.png',
                              'trunc.jpg', 'good2.jpg']))
    return str(lst), {good1, good2}


def test_broken_images_are_skipped_counted_and_refetched(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(tf_mod, 'print_log', lambda msg, **kw: logged.append((msg, kw)))
    lst, goods = _broken_list(tmp_path)
    ds = UnlabeledTextDataset(sources=[lst], pipeline=_load_pipeline())
    assert len(ds) == 6

    # transform directly: deterministic counts, one per reason
    load = LoadTextImage()
    reasons = {1: 'undecodable', 2: 'empty', 3: 'missing', 4: 'truncated'}
    for k, (idx, reason) in enumerate(reasons.items(), 1):
        assert load(ds.get_data_info(idx)) is None
        assert LoadTextImage.skipped().get(reason) == 1
        msg = logged[-1][0]
        name = os.path.basename(ds.get_data_info(idx)['img_path'])
        assert name in msg and reason in msg and f'{k} skipped so far' in msg
        assert logged[-1][1]['level'] == 30  # logging.WARNING
    assert LoadTextImage.total_skipped() == 4

    # through the dataset: a broken index still yields a valid sample
    LoadTextImage.reset_skipped()
    for idx, reason in reasons.items():
        before = LoadTextImage.skipped().get(reason, 0)
        out = ds[idx]
        assert out['img_path'] in goods
        assert out['img'].dtype == np.uint8 and out['img'].shape == (16, 48, 3)
        assert out['img_shape'] == out['ori_shape'] == (16, 48)
        assert LoadTextImage.skipped()[reason] >= before + 1
    assert LoadTextImage.total_skipped() >= 4


def test_fail_fast_raises_naming_file(tmp_path):
    lst, _ = _broken_list(tmp_path)
    ds = UnlabeledTextDataset(sources=[lst], pipeline=_load_pipeline(fail_fast=True))
    assert ds[0]['img'].shape == (16, 48, 3)
    with pytest.raises(TextImageLoadError, match=r'corrupt\.jpg.*undecodable'):
        ds[1]
    with pytest.raises(TextImageLoadError, match=r'missing\.png.*missing'):
        ds[3]
    with pytest.raises(TextImageLoadError, match=r'empty\.png'):
        LoadTextImage(ignore_empty=False)(ds.get_data_info(2))
    assert LoadTextImage.skipped() == {}


def test_lmdb_missing_key_skipped(tmp_path):
    lm = _make_lmdb(tmp_path / 'lm', 2, num_samples=3)  # declares one more than stored
    ds = UnlabeledTextDataset(sources=[lm], pipeline=_load_pipeline())
    assert LoadTextImage()(ds.get_data_info(2)) is None
    assert LoadTextImage.skipped() == {'missing': 1}
    assert ds[2]['lmdb_key'] in ('image-000000001', 'image-000000002')
    with pytest.raises(TextImageLoadError, match='image-000000003'):
        LoadTextImage(fail_fast=True)(ds.get_data_info(2))


def test_zero_size(monkeypatch):
    monkeypatch.setattr(cv2, 'imdecode', lambda *a: np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(TextImageLoadError, match='zero_size'):
        LoadTextImage(fail_fast=True)(dict(img_path=__file__))
    assert LoadTextImage()(dict(img_path=__file__)) is None
    assert LoadTextImage.skipped() == {'zero_size': 1}


def test_min_size(tmp_path):
    p = _write(str(tmp_path / 's.png'), _img(8, 30))
    assert LoadTextImage(min_size=9)(dict(img_path=p)) is None
    assert LoadTextImage.skipped() == {'too_small': 1}
    assert LoadTextImage(min_size=8)(dict(img_path=p))['img'].shape == (8, 30, 3)


# ------------------------------------------------------------- colour handling
def test_channel_order_on_pure_red(tmp_path):
    red_bgr = np.zeros((6, 10, 3), np.uint8)
    red_bgr[..., 2] = 255
    p = _write(str(tmp_path / 'red.png'), red_bgr)
    rgb = LoadTextImage()(dict(img_path=p))['img']
    assert rgb.shape == (6, 10, 3) and rgb.flags['C_CONTIGUOUS']
    assert (rgb[..., 0] == 255).all() and (rgb[..., 1:] == 0).all()
    bgr = LoadTextImage(channel_order='bgr')(dict(img_path=p))['img']
    assert (bgr[..., 2] == 255).all() and (bgr[..., :2] == 0).all()
    with pytest.raises(ValueError):
        LoadTextImage(channel_order='gray')


def test_grayscale_rgba_16bit_cmyk_load_as_3_channels(tmp_path):
    from PIL import Image

    gray = np.tile(np.arange(0, 200, 10, dtype=np.uint8), (5, 1))
    p = _write(str(tmp_path / 'g.png'), gray)
    out = LoadTextImage()(dict(img_path=p))['img']
    assert out.shape == (5, 20, 3) and (out == gray[..., None]).all()

    rgba = np.zeros((4, 7, 4), np.uint8)
    rgba[..., 2] = 255  # red in BGRA
    rgba[..., 3] = 0    # fully transparent: alpha is dropped, colour kept
    p = _write(str(tmp_path / 'rgba.png'), rgba)
    out = LoadTextImage()(dict(img_path=p))['img']
    assert out.shape == (4, 7, 3) and (out[..., 0] == 255).all()

    p = _write(str(tmp_path / 'g16.png'), np.full((3, 4), 40000, np.uint16))
    out = LoadTextImage()(dict(img_path=p))['img']
    assert out.dtype == np.uint8 and out.shape == (3, 4, 3) and (out == 40000 >> 8).all()

    buf = io.BytesIO()
    Image.new('CMYK', (9, 5), (0, 255, 255, 0)).save(buf, 'JPEG', quality=95)
    (tmp_path / 'cmyk.jpg').write_bytes(buf.getvalue())
    out = LoadTextImage()(dict(img_path=str(tmp_path / 'cmyk.jpg')))['img']
    assert out.shape == (5, 9, 3)
    assert out[..., 0].min() > 200 and out[..., 1:].max() < 50  # red


def test_pil_fallback_when_cv2_fails(tmp_path, monkeypatch):
    red_bgr = np.zeros((3, 5, 3), np.uint8)
    red_bgr[..., 2] = 255
    p = _write(str(tmp_path / 'red.png'), red_bgr)
    monkeypatch.setattr(cv2, 'imdecode', lambda *a: None)
    out = LoadTextImage()(dict(img_path=p))['img']
    assert out.shape == (3, 5, 3) and (out[..., 0] == 255).all() and (out[..., 2] == 0).all()


# ------------------------------------------------------------ per-process state
def test_lmdb_env_cached_per_process(tmp_path, monkeypatch):
    lm = _make_lmdb(tmp_path / 'lm', 1)
    env = tf_mod.get_lmdb_env(lm)
    assert tf_mod.get_lmdb_env(lm) is env
    pid = os.getpid()
    tf_mod.count_skip('missing')
    monkeypatch.setattr(tf_mod.os, 'getpid', lambda: pid + 100000)  # "a forked worker"
    env2 = tf_mod.get_lmdb_env(lm)
    assert env2 is not env
    assert LoadTextImage.skipped() == {}  # worker counters start at zero
    env2.close()
    tf_mod._LMDB_ENVS.pop((lm, pid + 100000))
    monkeypatch.undo()
    assert LoadTextImage.skipped() == {'missing': 1}
    assert mds.LoadTextImage is LoadTextImage
