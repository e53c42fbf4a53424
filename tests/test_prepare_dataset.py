"""tools/prepare_dataset.py on tiny archives in the real raw formats, run as a user runs it.

The archives are built here with the internal layout and file names of the official ones
(IIIT5K tarball + MMOCR label file, the IC15 word-image zip + Challenge4_Test_Task3_GT.txt,
svt.zip with svt1/test.xml, the IC13 word-image zip + MMOCR's 1015 JSON) and put where NaiveDataObtainer looks: <data-root>/cache/
<save_name>. Their md5s cannot match the real ones, and the 1.0.1 obtainer has no switch to
skip the check (only md5=None, which also disables downloading), so the test copies
dataset_zoo/ and replaces each real md5 by the fake archive's md5: the md5 check still runs.
"""
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import cv2
import lmdb
import numpy as np
from mmengine import Config

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / 'tools' / 'prepare_dataset.py'
ZOO = ROOT / 'dataset_zoo'

IIIT5K = {'1002_1.png': 'PRIVATE', '1002_2.png': 'PARKING', '1009_2.png': 'You'}
IC15 = {'word_1.png': 'JOINT', 'word_2.png': 'yourself', 'word_3.png': '1,000'}
IC13 = {'word_1.png': 'Tiredness', 'word_4.png': 'kills'}  # a "1015" JSON lists a subset
# SVT: two street images, three boxes (x, y, w, h, tag) on them
SVT = {'14_03.jpg': [(10, 8, 60, 20, 'LIVING'), (80, 30, 50, 18, 'ROOM')],
       '15_01.jpg': [(5, 5, 40, 16, 'HOTEL')]}


def png(h=12, w=40, seed=0):
    """Encoded bytes of a small random image (PNG)."""
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.imencode('.png', img)[1].tobytes()


def jpg(h, w, seed=0):
    """Encoded bytes of a small random image (JPEG)."""
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.imencode('.jpg', img)[1].tobytes()


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_cache(cache):
    """Write the fake raw files under their cache names; returns {cache name: md5}."""
    cache.mkdir(parents=True)
    # IIIT5K-Word_V3.0.tar.gz: IIIT5K/{train,test}/*.png + .mat files; MMOCR's label file
    with tarfile.open(cache / 'IIIT5K.tar.gz', 'w:gz') as tar:
        for i, name in enumerate(IIIT5K):
            add_bytes(tar, f'IIIT5K/test/{name}', png(seed=i))
        add_bytes(tar, 'IIIT5K/train/1009_1.png', png(seed=9))
        add_bytes(tar, 'IIIT5K/lexicon.txt', b'PRIVATE\nPARKING\n')
    (cache / 'iiit5k_test.txt').write_text(
        ''.join(f'test/{n} {t}\n' for n, t in IIIT5K.items()))
    # ch4_test_word_images_gt.zip: word_N.png (+ coords.txt) at the zip root;
    # Challenge4_Test_Task3_GT.txt: UTF-8 with BOM, CRLF, `word_N.png, "text"`
    with zipfile.ZipFile(cache / 'ic15_textrecog_test_img.zip', 'w') as z:
        for i, name in enumerate(IC15):
            z.writestr(name, png(seed=10 + i))
        z.writestr('coords.txt', ''.join(f'{n}, 0,0,40,0,40,12,0,12\r\n' for n in IC15))
    (cache / 'ic15_textrecog_test_gt.txt').write_bytes(
        '\ufeff'.encode() + ''.join(f'{n}, "{t}"\r\n' for n, t in IC15.items()).encode())
    # Challenge2_Test_Task3_Images.zip: word_N.png at the root (word_2/3 filtered out of
    # the 1015 set); MMOCR's textrecog_test_1015.json, img_path already in place
    with zipfile.ZipFile(cache / 'ic13_textrecog_test_img.zip', 'w') as z:
        for i in range(1, 5):
            z.writestr(f'word_{i}.png', png(seed=30 + i))
    (cache / 'ic13_textrecog_test_1015.json').write_text(json.dumps(dict(
        metainfo=dict(dataset_type='TextRecogDataset', task_name='textrecog'),
        data_list=[dict(instances=[dict(text=t)], img_path=f'textrecog_imgs/test/{n}')
                   for n, t in IC13.items()])))
    # svt.zip: svt1/img/*.jpg + svt1/{train,test}.xml
    images = ''.join(
        f'  <image>\n    <imageName>img/{name}</imageName>\n    <address>Somewhere</address>\n'
        f'    <lex>LIVING,ROOM,HOTEL</lex>\n    <Resolution x="160" y="64"/>\n'
        '    <taggedRectangles>\n'
        + ''.join(f'      <taggedRectangle height="{h}" width="{w}" x="{x}" y="{y}">\n'
                  f'        <tag>{tag}</tag>\n      </taggedRectangle>\n'
                  for x, y, w, h, tag in boxes)
        + '    </taggedRectangles>\n  </image>\n' for name, boxes in SVT.items())
    xml = f'<?xml version="1.0" encoding="utf-8"?>\n<tagset>\n{images}</tagset>\n'
    with zipfile.ZipFile(cache / 'svt.zip', 'w') as z:
        for i, name in enumerate(SVT):
            z.writestr(f'svt1/img/{name}', jpg(64, 160, seed=20 + i))
        z.writestr('svt1/test.xml', xml)
        z.writestr('svt1/train.xml', '<?xml version="1.0" encoding="utf-8"?>\n<tagset>\n</tagset>\n')
    return {p.name: md5(p) for p in cache.iterdir()}


def copy_zoo(dst, fake_md5, url_prefix=None):
    """Copy dataset_zoo/ to ``dst``, replacing real md5s (and optionally URLs) in the copy."""
    shutil.copytree(ZOO, dst)
    for name in ('iiit5k', 'icdar2013', 'icdar2015', 'svt'):
        path = dst / name / 'textrecog.py'
        text = path.read_text()
        for f in Config.fromfile(str(ZOO / name / 'textrecog.py')).test_preparer.obtainer.files:
            if f.md5 is not None:  # the zoo keeps the real md5s; swap in the fake ones
                assert f.md5 in text
                text = text.replace(f.md5, fake_md5[f.save_name])
        if url_prefix:  # point the downloads at an unreachable server
            text = text.replace("url='http://", f"url='{url_prefix}").replace(
                "url='https://", f"url='{url_prefix}")
        path.write_text(text)
    return dst


def run(*args, cwd):
    env = {k: v for k, v in os.environ.items() if 'proxy' not in k.lower()}
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def run_here(*args, cwd):
    """The tool's ``main`` in this process (no second import of the stack), for the runs
    that stop before MMOCR's preparer: same exit code and output as :func:`run`."""
    import contextlib
    import importlib.util
    import io
    spec = importlib.util.spec_from_file_location('prepare_dataset_tool', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if 'proxy' in k.lower()}
    timeout, here = socket.getdefaulttimeout(), os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = tool.main([str(a) for a in args])
    finally:
        os.chdir(here)
        os.environ.update(saved)
        socket.setdefaulttimeout(timeout)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def load_json(path):
    data = json.loads(Path(path).read_text())
    assert data['metainfo'] == {'dataset_type': 'TextRecogDataset', 'task_name': 'textrecog'}
    return data['data_list']


def test_prepares_real_formats_offline(tmp_path):
    data = tmp_path / 'data'
    fake = make_cache(data / 'cache')
    zoo = copy_zoo(tmp_path / 'zoo', fake)
    res = run('iiit5k', 'icdar2013', 'icdar2015', 'svt', '--task', 'textrecog', '--splits', 'test',
              '--dataset-zoo-path', zoo, '--data-root', data, '--nproc', 1, '--offline',
              '--lmdb', cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    expected = {
        'iiit5k': {f'textrecog_imgs/test/{n}': t for n, t in IIIT5K.items()},
        'icdar2013': {f'textrecog_imgs/test/{n}': t for n, t in IC13.items()},
        'icdar2015': {f'textrecog_imgs/test/{n}': t for n, t in IC15.items()},
        'svt': {f'textrecog_imgs/test/{Path(img).stem}_{i}.jpg': box[4].lower()
                for img, boxes in SVT.items() for i, box in enumerate(boxes)},
    }
    for name, want in expected.items():
        root = data / name
        items = load_json(root / 'textrecog_test.json')
        got = {d['img_path']: d['instances'][0]['text'] for d in items}
        assert got == want, name
        assert all(len(d['instances']) == 1 for d in items)
        for img_path in got:
            img = cv2.imread(str(root / img_path))
            assert img is not None and img.size > 0, img_path
        # the same samples in MMOCR's labeled LMDB layout
        with lmdb.open(str(root / 'textrecog_test.lmdb'), readonly=True, lock=False) as env:
            with env.begin() as txn:
                assert int(txn.get(b'num-samples')) == len(want)
                assert txn.get(b'label-000000001').decode() in want.values()
        # the zoo's `delete` removed the raw leftovers; a base config was generated
        assert not (root / 'annotations').exists()
        cfg = Config.fromfile(str(data / 'configs/textrecog/_base_/datasets' / f'{name}_lmdb.py'))
        assert cfg[f'{name}_lmdb_textrecog_test'].ann_file == 'textrecog_test.lmdb'
    assert not (data / 'iiit5k' / 'IIIT5K').exists() and not (data / 'svt' / 'svt').exists()
    assert not (data / 'icdar2013' / 'ic13_textrecog_test_1015.json').exists()  # renamed
    # SVT crops are the boxes' pixels
    crop = cv2.imread(str(data / 'svt/textrecog_imgs/test/14_03_0.jpg'))
    assert crop.shape[:2] == (20, 60)


def test_offline_error_names_missing_archive(tmp_path):
    data = tmp_path / 'data'
    res = run_here('iiit5k', '--splits', 'test', '--data-root', data, '--offline', cwd=tmp_path)
    assert res.returncode == 2
    err = res.stderr
    assert 'IIIT5K.tar.gz' in err and 'iiit5k_test.txt' in err
    assert f'put it at: {data / "cache" / "IIIT5K.tar.gz"}' in err
    assert 'IIIT5K-Word_V3.0.tar.gz' in err  # where to get it
    assert not (data / 'iiit5k').exists()  # nothing extracted or created


def test_failed_download_is_explained(tmp_path):
    with socket.socket() as s:  # a local port nobody listens on: the download fails at once
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    data = tmp_path / 'data'
    fake = make_cache(tmp_path / 'unused')
    zoo = copy_zoo(tmp_path / 'zoo', fake, url_prefix=f'http://127.0.0.1:{port}/')
    res = run_here('icdar2015', '--splits', 'test', '--data-root', data, '--dataset-zoo-path',
                   zoo, '--timeout', 5, cwd=tmp_path)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'download failed' in res.stderr
    assert f'put it at: {data / "cache" / "ic15_textrecog_test_img.zip"}' in res.stderr
    assert 'ic15_textrecog_test_gt.txt' in res.stderr  # the md5=None file is fetched too
    assert not list((data / 'cache').iterdir())  # no partial files left behind
