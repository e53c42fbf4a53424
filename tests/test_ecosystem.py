"""The plugin as OpenMMLab users run it: next to MMOCR dev-1.x, installed from a wheel, under
``mim`` and MMOCR's own tools, with the inference, publishing, test-output and slurm tools."""
import importlib.util
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest
import yaml

import mmocr
import mmpretrain
from mnsp_mm.datasets import synth

ROOT = Path(__file__).resolve().parents[1]
TINY_FT = 'maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
MMOCR_TRAIN = Path(mmocr.__file__).parent / '.mim' / 'tools' / 'train.py'
MMPRETRAIN_TRAIN = Path(mmpretrain.__file__).parent / '.mim' / 'tools' / 'train.py'
TINY_MAE = ROOT / 'configs' / 'maerec' / 'mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'
# the one model with an official checkpoint that mim can fetch (configs/maerec/metafile.yml)
OFFICIAL_TEST = 'maerec_text-vit-s_official-weights-test_union14m-benchmark'
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def run(*args, cwd, env=ENV):
    res = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return res.stdout + res.stderr


def tool_at(path: Path):
    """A script as a module (tools/ folders are scripts, not packages)."""
    spec = importlib.util.spec_from_file_location(f'tool_{path.parent.parent.name}_{path.stem}',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(name):
    """A module of our tools/."""
    return tool_at(ROOT / 'tools' / f'{name}.py')


def losses(work_dir: Path) -> dict:
    """``{iteration: loss}`` from the one run's ``vis_data/scalars.json`` under ``work_dir``."""
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    return {r['step']: r['loss'] for r in rows if 'loss' in r}


# ------------------------------------------------------------- 1. MMOCR dev-1.x
DEV1X = '''
import mmocr.models  # MMOCR's own modules first, as on any install
from mmocr.models.textrecog.decoders import NRTRDecoder
from mmocr.models.textrecog.recognizers import EncoderDecoderRecognizer
from mmocr.registry import MODELS

# what MMOCR dev-1.x registers (mmocr/models/textrecog/{decoders/maerec_decoder,
# recognizers/maerec}.py): its own MAERecDecoder and MAERec, under the same names as ours were
Dev1xDecoder = type('MAERecDecoder', (NRTRDecoder, ),
                    {'__module__': 'mmocr.models.textrecog.decoders.maerec_decoder'})
Dev1xRecognizer = type('MAERec', (EncoderDecoderRecognizer, ),
                       {'__module__': 'mmocr.models.textrecog.recognizers.maerec'})
MODELS.register_module(module=Dev1xDecoder)
MODELS.register_module(module=Dev1xRecognizer)

import mnsp_mm  # failed with "MAERecDecoder is already registered" before the rename
from mnsp_mm.apis import load_config
from mmengine.registry import DefaultScope

assert MODELS.get('MAERecDecoder') is Dev1xDecoder and MODELS.get('MAERec') is Dev1xRecognizer
cfg = load_config('configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py')
with DefaultScope.overwrite_default_scope('mmocr'):
    model = MODELS.build(cfg.model)
    theirs = MODELS.build(dict(cfg.model.decoder, type='MAERecDecoder'))
assert type(model) is mnsp_mm.models.TextMAERec, type(model)
assert type(model.decoder) is mnsp_mm.models.TextMAERecDecoder, type(model.decoder)
assert type(theirs) is Dev1xDecoder
print('coexist ok')
'''


def test_plugin_imports_and_builds_next_to_mmocr_dev1x():
    # a fresh process: this one's registries already hold our classes under the old names
    assert 'coexist ok' in run(sys.executable, '-c', DEV1X, cwd=ROOT)


def test_old_names_are_aliases_on_mmocr_1_0_1():
    from mmocr.registry import MODELS

    from mnsp_mm.models import TextMAERec, TextMAERecDecoder
    assert MODELS.get('MAERec') is MODELS.get('TextMAERec') is TextMAERec
    assert MODELS.get('MAERecDecoder') is MODELS.get('TextMAERecDecoder') is TextMAERecDecoder


# ------------------------------------------- 2. wheel, mim, MMOCR's train.py, infer
@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    """16 training crops (one with a 40-character label, one missing image) and 6 test crops."""
    root = tmp_path_factory.mktemp('data')
    synth.render_dataset(root, 16, 0, name='train')
    synth.render_dataset(root, 6, 1, name='test')
    synth.render_dataset(root, 3, 2, fmt=('lmdb', ), name='lmdb')
    ann = json.loads((root / 'textrecog_train.json').read_text())
    ann['data_list'][0]['instances'][0]['text'] = 'x' * 40  # > max_seq_len - 1 = 24
    ann['data_list'][1]['img_path'] = 'imgs/train/gone.png'
    (root / 'textrecog_train.json').write_text(json.dumps(ann))
    return root


def tiny_options(data, work_dir, iters=3):
    return ['--work-dir', work_dir, '--cfg-options', f'train_dataloader.dataset.data_root={data}',
            f'train_cfg.max_iters={iters}', 'train_dataloader.batch_size=4',
            'train_dataloader.num_workers=1', 'default_hooks.logger.interval=1',
            'param_scheduler=[]', 'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None']


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A wheel built from a copy of the checkout, installed (not editable) into a target dir.

    Returns ``(site dir, environment with it first on PYTHONPATH)``; the checkout is not on
    the path of the processes that use it, and they run in another directory.
    """
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    ignore = shutil.ignore_patterns('.git', '.venv', 'work_dirs', 'data', 'build', 'dist',
                                    '*.egg-info', '__pycache__', '.pytest_cache')
    shutil.copytree(ROOT, src, ignore=ignore)  # building in place would leave build/ behind
    run(sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
        '-w', tmp / 'dist', src, cwd=tmp)
    (wheel, ) = (tmp / 'dist').glob('mnsp_mm-*.whl')
    site = tmp / 'site'
    run(sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', '--target',
        site, wheel, cwd=tmp)
    env = dict(ENV, PYTHONPATH=os.pathsep.join(
        [str(site)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
                       if p and Path(p).resolve() != ROOT]))
    return site, env


@pytest.fixture(scope='module')
def mim_run(installed, tiny_data, tmp_path_factory):
    """``mim train mnsp_mm <config name>`` from an empty directory with the installed wheel."""
    site, env = installed
    cwd, work = tmp_path_factory.mktemp('elsewhere'), tmp_path_factory.mktemp('mim_work')
    out = run(sys.executable, '-m', 'mim', 'train', 'mnsp_mm', TINY_FT,
              *tiny_options(tiny_data, work), cwd=cwd, env=env)
    return out, work


def test_wheel_ships_configs_tools_dicts_and_model_index_for_mim_search(installed):
    mim = installed[0] / 'mnsp_mm' / '.mim'
    for rel in ('configs/_base_/textrecog/dicts/english_digits_symbols_space.txt',
                'configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py',
                'configs/lmim/metafile.yml',
                'tools/train.py', 'tools/test.py', 'tools/infer.py', 'tools/publish_model.py',
                'tools/prepare_dataset.py', 'dataset_zoo/iiit5k/textrecog.py',
                'model-index.yml'):
        assert (mim / rel).is_file(), rel
    from modelindex.load_model_index import load
    index = load(str(mim / 'model-index.yml'))
    names = {m.name for m in index.models}
    assert {'maerec_text-vit-s_8xb128-coslr-10e_union14m-l',
            'lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l',
            'mnsp_text-vit-s_8xb64-ld-coslr-10e_union14m-l',
            'lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark'} <= names
    for model in index.models:  # every config a metafile names is shipped
        assert (mim / model.config).is_file(), model.config
    for collection in index.collections:  # and every README (mim's `readme` field)
        assert (mim / collection.readme).is_file(), collection.readme
    out = run(sys.executable, '-m', 'mim', 'search', 'mnsp_mm', cwd=installed[0].parent,
              env=installed[1])
    assert 'config id: lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark' in out
    assert re.search(r'model +mnsp', out)
    # the paper's numbers and the released weights are what mim shows for MAERec-S
    released = out.split(f'config id: {OFFICIAL_TEST}')[1].split('config id:')[0]
    assert re.search(r'results_source +paper \(union14m', released)
    assert re.search(r'weight +https://download', released)  # mim cuts long values


def model_index():
    from modelindex.load_model_index import load
    return load(str(ROOT / 'model-index.yml'))


def test_model_index_uses_the_standard_fields():
    """Collections with Paper and README; every model with Results and Weights (null when
    there is none); Results only as the paper's numbers; Weights only where mim can fetch."""
    from mnsp_mm.evaluation.published import published_rows
    index = model_index()
    assert index.check_errors == set() or not index.check_errors
    for collection in index.collections:
        assert collection.paper['URL'].startswith('https://') and collection.paper['Title']
        assert collection.readme == f'configs/{collection.name.lower()}/README.md'
        assert (ROOT / collection.readme).is_file()
    published = {r['method'].split(' ')[0]: r for r in published_rows()}
    raw = {m['Name']: m for path in yaml.safe_load((ROOT / 'model-index.yml').read_text())['Import']
           for m in yaml.safe_load((ROOT / path).read_text())['Models']}
    assert set(raw) == {m.name for m in index.models}
    fetchable = set()
    for model in index.models:
        # explicit, null when there is none (as mmpretrain's metafiles)
        assert 'Results' in raw[model.name] and 'Weights' in raw[model.name], model.name
        assert (ROOT / model.config).is_file(), model.config
        if model.weights:
            # a direct download mim can stream, never a Google Drive page
            assert model.weights.startswith('https://download.openmmlab.com/'), model.weights
            fetchable.add(model.name)
        if model.results:
            assert model.metadata.data['Results Source'].startswith('paper ('), model.name
            for result in model.results:
                assert result.task == 'Text Recognition' and result.dataset and result.metrics
        # the published numbers agree with the table printed beside ours
        values = {r.dataset: r.metrics['word_acc_ignore_case_symbol'] for r in model.results or []}
        six = [values[d] for d in ('IIIT5K', 'SVT', 'ICDAR2013', 'ICDAR2015', 'SVTP', 'CT80')
               if d in values]
        row = published[model.in_collection.replace('MAERec', 'MAERec-S')]
        if len(six) == 6:
            assert 100 * sum(six) / 6 == pytest.approx(row['avg'], abs=0.051), model.name
        if 'Six common benchmarks (average)' in values:
            assert 100 * values['Six common benchmarks (average)'] == pytest.approx(row['avg'])
    assert fetchable == {OFFICIAL_TEST}


def test_mim_download_fetches_released_weights_and_dumps_the_config(installed, tmp_path):
    """``mim download`` of the released MAERec-S: the checkpoint already in --dest (no
    network: a download would go to a dead proxy and fail), the config dumped beside it."""
    site, env = installed
    dest = tmp_path / 'ckpts'
    dest.mkdir()
    (dest / 'maerec_s_union14m-a9a157e5.pth').write_bytes(b'stand-in')
    env = dict(env, HTTP_PROXY='http://127.0.0.1:9', HTTPS_PROXY='http://127.0.0.1:9')
    out = run(sys.executable, '-m', 'mim', 'download', 'mnsp_mm', '--config',
              OFFICIAL_TEST, '--dest', dest, cwd=tmp_path, env=env)
    assert 'maerec_s_union14m-a9a157e5.pth exists in' in out
    dumped = (dest / f'{OFFICIAL_TEST}.py').read_text()
    assert 'bgr_to_rgb=False' in dumped and 'TextMAERec' in dumped


def test_mim_train_from_another_directory(installed, mim_run):
    out, work = mim_run
    mim_tools = installed[0] / 'mnsp_mm' / '.mim' / 'tools' / 'train.py'
    assert f'Training command is {sys.executable} {mim_tools}' in out
    assert (work / 'iter_3.pth').is_file() and len(losses(work)) == 3


def test_mmocr_own_train_py_gives_the_same_run(installed, tiny_data, mim_run, tmp_path):
    """MMOCR's tools/train.py builds our runner (runner_type): same skips, same losses."""
    site, env = installed
    config = site / 'mnsp_mm' / '.mim' / 'configs' / 'maerec' / TINY_FT
    out = run(sys.executable, MMOCR_TRAIN, config, *tiny_options(tiny_data, tmp_path),
              cwd=tmp_path, env=env)
    ours = losses(mim_run[1])
    assert losses(tmp_path) == pytest.approx(ours, rel=1e-6)
    for log in (out, mim_run[0]):
        # the label limit came from the decoder (max_seq_len 25), the skip counts from the
        # dataloader worker to the main process's log
        assert 'max_len=24' in log and 'label_too_long' in log and 'data_skipped' in log


def test_mmpretrain_own_train_py_gives_the_same_run_as_ours(pool, tmp_path):
    """mmpretrain's tools/train.py turns on persistent_workers (and pin_memory) in every
    loader; our tiny configs have no workers, which torch refuses unless the runner (every
    tool builds ours: runner_type) turns it off again. Same losses as our tools/train.py."""
    options = ['--cfg-options', f"train_dataloader.dataset.sources=['{pool}']",
               'train_dataloader.batch_size=4', 'train_cfg.max_iters=2',
               'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=2']
    theirs, ours = tmp_path / 'mmpretrain', tmp_path / 'ours'
    out = run(sys.executable, MMPRETRAIN_TRAIN, TINY_MAE, '--work-dir', theirs, *options,
              cwd=tmp_path)
    run(sys.executable, ROOT / 'tools' / 'train.py', TINY_MAE, '--work-dir', ours, *options,
        cwd=tmp_path)
    assert (theirs / 'iter_2.pth').is_file() and 'pin_memory=True' in out  # its defaults
    assert losses(theirs) == pytest.approx(losses(ours), rel=1e-6) and len(losses(ours)) == 2


def shipped_configs():
    return sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)


def test_every_shipped_config_builds_our_runner_under_every_entry_point(tmp_path):
    """Every tool (ours, MMOCR's, mmpretrain's, mim's) builds ``RUNNERS.build(cfg)`` when the
    config names a runner: every shipped config names ours, whose preparation makes the
    loaders valid whatever defaults the tool merged (mmpretrain's, with no workers)."""
    import argparse

    from mmengine import Config

    from mnsp_mm.apis.prepare import fit_persistent_workers
    merge_args = tool_at(MMPRETRAIN_TRAIN).merge_args
    args = argparse.Namespace(no_validate=False, launcher='none', work_dir=str(tmp_path),
                              amp=False, resume=None, auto_scale_lr=False, no_pin_memory=False,
                              no_persistent_workers=False, cfg_options=None, config='x.py')
    configs = shipped_configs()
    assert len(configs) > 40
    for path in configs:
        cfg = Config.fromfile(str(path))
        assert cfg.get('runner_type') == 'MnspRunner', path
        if cfg.default_scope != 'mmpretrain':
            continue
        cfg = merge_args(cfg, args)
        cfg.train_dataloader.num_workers = 0  # the tiny configs' value, for every config
        fit_persistent_workers(cfg)
        assert cfg.train_dataloader.persistent_workers is False, path


def test_publish_then_read_images_with_the_installed_tool(installed, tiny_data, mim_run,
                                                          tmp_path):
    site, env = installed
    published = tool('publish_model').publish(str(mim_run[1] / 'iter_3.pth'),
                                              str(tmp_path / 'tiny.pth'))
    sha = published.rsplit('-', 1)[1][:-4]
    assert len(sha) == 8 and Path(published).is_file()
    # weights_only loading with nothing of ours imported (no allow-list in that process)
    check = ('import sys, torch; c = torch.load(sys.argv[1], weights_only=True); '
             "assert set(c) == {'meta', 'state_dict'} and 'mnsp_mm' not in sys.modules; "
             "print(len(c['state_dict']))")
    assert int(run(sys.executable, '-c', check, published, cwd=tmp_path).strip()) > 10

    image = tiny_data / 'imgs' / 'train' / '000007.png'  # a name the test folder lacks
    config = site / 'mnsp_mm' / '.mim' / 'configs' / 'maerec' / TINY_FT
    out = run(sys.executable, site / 'mnsp_mm' / '.mim' / 'tools' / 'infer.py', config,
              published, image, tiny_data / 'imgs' / 'test', tiny_data / 'lmdb' / 'lmdb',
              '--out-dir', tmp_path / 'results', '--save-vis', cwd=tmp_path, env=env)
    records = [json.loads(line) for line in
               (tmp_path / 'results' / 'predictions.jsonl').read_text().splitlines()]
    assert len(records) == 1 + 6 + 3
    assert records[0]['input'] == str(image) and isinstance(records[0]['text'], str)
    # 3 iterations teach little: an empty reading has no score
    assert all(r['score'] is None if r['text'] == '' else 0 <= r['score'] <= 1 for r in records)
    assert records[-1]['input'].endswith(':image-000000003') and 'gt' in records[-1]
    assert f"{image}\t{records[0]['text']}\t" in out and 'predictions written to' in out
    assert len(list((tmp_path / 'results' / 'vis').glob('*.jpg'))) == 1 + 6 + 3


def test_mim_test_save_preds_and_show_dir(installed, tiny_data, mim_run, tmp_path):
    """``mim test`` runs our tools/test.py; two test sets under MultiDatasetsEvaluator: every
    prediction is dumped (not only the last set's), and drawn."""
    config = tmp_path / 'two_sets.py'
    config.write_text(f"""_base_ = [{str(ROOT / 'configs' / 'maerec' / TINY_FT)!r}]
_sets = [dict(type='OCRDataset', data_root={str(tiny_data)!r}, ann_file=name, test_mode=True,
              indices=indices) for name, indices in
         (('textrecog_test.json', None), ('textrecog_train.json', [7, 8]))]
test_dataloader = dict(dataset=dict(datasets=_sets))
test_evaluator = dict(dataset_prefixes=['a', 'b'])
""")
    run(sys.executable, '-m', 'mim', 'test', 'mnsp_mm', config, '--checkpoint',
        mim_run[1] / 'iter_3.pth', '--work-dir', tmp_path, '--save-preds', '--show-dir', 'shown',
        cwd=tmp_path, env=installed[1])
    with open(tmp_path / 'iter_3.pth_predictions.pkl', 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 6 + 2  # both datasets, not only the last one
    assert {Path(p['img_path']).parent.name for p in preds} == {'test', 'train'}
    assert all(isinstance(p['pred_text']['item'], str) for p in preds)
    metrics = json.loads((tmp_path / 'test_metrics.json').read_text())['metrics']
    assert 'a/recog/word_acc' in metrics and 'b/recog/word_acc' in metrics
    assert len(list((tmp_path / 'shown' / 'vis_data' / 'vis_image').glob('*.png'))) == 6 + 2


def test_test_py_show_turns_on_mmocr_visualization_hook(tmp_path):
    import argparse

    from mnsp_mm.apis import load_config
    add_test_outputs = tool('test').add_test_outputs
    cfg = load_config(str(ROOT / 'configs' / 'maerec' / TINY_FT), work_dir=str(tmp_path))
    args = argparse.Namespace(config='c.py', checkpoint='x.pth', show=True, show_dir=None,
                              wait_time=0.5, save_preds=False)
    add_test_outputs(cfg, args)
    vis = cfg.default_hooks.visualization
    assert (vis.enable, vis.show, vis.wait_time, vis.draw_pred) == (True, True, 0.5, True)
    del cfg.default_hooks['visualization']
    with pytest.raises(SystemExit, match='default_hooks.visualization'):
        add_test_outputs(cfg, args)


# ---------------------------------------------------------------- 3. slurm scripts
def test_slurm_scripts_launch_our_tools(tmp_path):
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_LOG"\n')
    (fake / 'srun').chmod(0o755)
    env = dict(os.environ, PATH=f'{fake}{os.pathsep}{os.environ["PATH"]}', GPUS='16',
               SRUN_LOG=str(tmp_path / 'train.args'))
    run('bash', ROOT / 'tools' / 'slurm_train.sh', 'gpu', 'job', 'CFG.py', 'work', '--amp',
        cwd=tmp_path, env=env)
    args = (tmp_path / 'train.args').read_text().splitlines()
    assert args[:2] == ['-p', 'gpu'] and '--ntasks=16' in args and '--ntasks-per-node=8' in args
    assert args[-5:] == [str(ROOT / 'tools' / 'train.py'), 'CFG.py', '--work-dir=work', '--amp',
                         '--launcher=slurm']
    env['SRUN_LOG'] = str(tmp_path / 'test.args')
    run('bash', ROOT / 'tools' / 'slurm_test.sh', 'gpu', 'job', 'CFG.py', 'x.pth',
        '--save-preds', cwd=tmp_path, env=env)
    args = (tmp_path / 'test.args').read_text().splitlines()
    assert args[-5:] == [str(ROOT / 'tools' / 'test.py'), 'CFG.py', 'x.pth', '--save-preds',
                         '--launcher=slurm']


# ------------------------------------------------------- 4. Chinese setting, LMDB
def chinese_dict(path: Path, num_chars: int = 7934) -> Path:
    """A dictionary of ``num_chars`` CJK characters, one per line (the benchmark's size)."""
    path.write_text(''.join(chr(0x4E00 + i) + '\n' for i in range(num_chars)), encoding='utf-8')
    return path


def chinese_lmdb(root: Path, name: str, num: int) -> Path:
    """A labeled LMDB of rendered crops whose labels are Chinese (images need not match)."""
    synth.render_dataset(root, num, 0, fmt=('lmdb', ), name=name)
    path = root / 'lmdb' / name
    env = lmdb.open(str(path), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i in range(1, num + 1):
            text = ''.join(chr(0x4E00 + (7 * i + j) % 7934) for j in range(3 + i % 5))
            txn.put(b'label-%09d' % i, text.encode('utf-8'))
    env.close()
    return path


@pytest.mark.parametrize('config', ['lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py',
                                    'mnsp/mnsp_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py'])
def test_chinese_config_has_7937_classes_and_trains(tmp_path, config):
    from mnsp_mm.apis import build_runner, load_config
    dict_file = chinese_dict(tmp_path / 'dict.txt')
    data = chinese_lmdb(tmp_path, 'scene', 8)
    cfg = load_config(str(ROOT / 'configs' / config), work_dir=str(tmp_path / 'w'),
                      cfg_options={'model.decoder.dictionary.dict_file': str(dict_file)})
    assert cfg.model.decoder.max_seq_len == 40
    # shrunk to a CPU-sized model; the dictionary, data format and pipelines stay
    cfg.model.backbone.update(arch=dict(embed_dims=96, num_layers=2, num_heads=3,
                                        feedforward_channels=192), pretrained=None)
    cfg.model.decoder.update(n_layers=1, d_embedding=96, d_model=96, n_head=4, d_k=24, d_v=24,
                             d_inner=192)
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False,
                                pin_memory=False)
    cfg.train_dataloader.dataset.datasets[0].update(data_root='', ann_file=str(data))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1000)
    runner = build_runner(cfg)
    runner.train()
    decoder = runner.model.decoder
    assert decoder.dictionary.num_classes == 7937 and decoder.classifier.out_features == 7937
    pipeline = runner.train_dataloader.dataset.datasets[0].pipeline.transforms
    label_filter = next(t for t in pipeline if type(t).__name__ == 'FilterTextLabel')
    assert label_filter.max_len == 39
    assert {chr(0x4E00 + i) for i in range(7934)} <= label_filter.chars
    assert runner.message_hub.get_scalar('train/loss').current() > 0


def test_labeled_lmdb_dataset_reads_labels_and_names_bad_lmdbs(tmp_path):
    from mnsp_mm.datasets import LabeledLMDBDataset
    path = chinese_lmdb(tmp_path, 'ok', 3)
    ds = LabeledLMDBDataset(ann_file=str(path), pipeline=[], lazy_init=False)
    info = ds.get_data_info(2)
    assert info['lmdb_key'] == 'image-000000003' and len(info['instances'][0]['text']) == 6
    synth.render_dataset(tmp_path, 2, 0, fmt=('lmdb', ), labeled=False, name='unlabeled')
    with pytest.raises(ValueError, match='label-000000001 is missing'):
        LabeledLMDBDataset(ann_file=str(tmp_path / 'lmdb' / 'unlabeled'), pipeline=[])
    with pytest.raises(FileNotFoundError, match='no LMDB'):
        LabeledLMDBDataset(ann_file=str(tmp_path / 'nowhere'), pipeline=[])


def test_union14m_lmdb_config_reads_the_lmdb_layout(tmp_path):
    from mmengine.registry import DefaultScope
    from mmocr.registry import DATASETS

    from mnsp_mm.apis import load_config
    for split in ('challenging', 'hard', 'medium', 'normal', 'easy'):
        chinese_lmdb(tmp_path, split, 2)
        (tmp_path / 'train').mkdir(exist_ok=True)
        (tmp_path / 'lmdb' / split).rename(tmp_path / 'train' / f'train_{split}')
    cfg = load_config(str(ROOT / 'configs' / 'maerec' /
                          'maerec_text-vit-s_8xb128-coslr-10e_union14m-l-lmdb.py'))
    for ds in cfg.train_dataloader.dataset.datasets:
        ds.data_root = str(tmp_path)
    with DefaultScope.overwrite_default_scope('mmocr'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 10
    sample = dataset[9]  # through the full MAERec training pipeline
    assert tuple(sample['inputs'].shape) == (3, 32, 128)
    assert sample['data_samples'].gt_text.item == dataset.get_data_info(9)['instances'][0]['text']


def test_runner_built_the_mmocr_way_checks_paths_before_any_dataset(tmp_path, monkeypatch):
    """MMOCR's tools call RUNNERS.build(cfg) for a config with runner_type: ours."""
    from mmengine.runner import Runner
    from mmocr.registry import RUNNERS

    from mnsp_mm.apis import MnspRunner, load_config
    cfg = load_config(str(ROOT / 'configs' / 'maerec' / TINY_FT), work_dir=str(tmp_path),
                      cfg_options={'train_dataloader.dataset.data_root': str(tmp_path / 'no')})
    runner = RUNNERS.build(cfg)
    assert type(runner) is MnspRunner

    def boom(*args, **kwargs):
        raise AssertionError('a dataloader was built before the path check')
    monkeypatch.setattr(Runner, 'build_dataloader', boom)
    with pytest.raises(FileNotFoundError, match=r'train_dataloader\.dataset\.data_root='):
        runner.train()
