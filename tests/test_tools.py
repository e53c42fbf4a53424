"""tools/train.py and the environment check, run as a user runs them (the demo: test_demo.py)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mnsp_mm.apis import load_config
from mnsp_mm import synth
from mnsp_mm.utils import env_check

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'


def run(*args, cwd=ROOT):
    res = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


@pytest.fixture(scope='module')
def pool(tmp_path_factory):
    root = tmp_path_factory.mktemp('pool')
    synth.render_dataset(root, 48, 0, fmt=('lmdb', ), labeled=False, name='u')
    return root / 'lmdb' / 'u'


def test_env_check_reports_ok():
    assert env_check.problems() == []
    out = run('-m', 'mnsp_mm.utils.env_check')
    assert 'ok: torch' in out and 'mmcv 2.0.1 with ops' in out


def test_train_then_resume(tmp_path, pool):
    common = ['--work-dir', tmp_path, '--cfg-options',
              f"train_dataloader.dataset.sources=['{pool}']", 'train_dataloader.batch_size=4',
              'default_hooks.checkpoint.interval=2']
    run('tools/train.py', TINY_MAE, *common, 'train_cfg.max_iters=2')
    first = torch.load(tmp_path / 'iter_2.pth', map_location='cpu')  # weights_only default
    assert first['meta']['iter'] == 2
    assert any(k.startswith('backbone.layers.') for k in first['state_dict'])
    out = run('tools/train.py', TINY_MAE, *common, 'train_cfg.max_iters=4', '--resume')
    assert 'resumed' in out.lower()
    assert torch.load(tmp_path / 'iter_4.pth', map_location='cpu')['meta']['iter'] == 4


def test_config_scope_is_checked(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("default_scope = 'mmdet'\n")
    with pytest.raises(ValueError, match="default_scope must be one of"):
        load_config(str(bad))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))


def test_amp_is_bf16_autocast_on_a_cpu(tmp_path, pool):
    """``--amp`` on a CPU: BF16OptimWrapper (mmengine's AMP wrapper needs a GPU); a run under it
    computes its forward in bf16 and keeps fp32 weights, so its checkpoint is the usual one."""
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp is AmpOptimWrapper there')
    from mnsp_mm.apis import build_runner
    cfg = load_config(TINY_MAE, amp=True, work_dir=str(tmp_path), cfg_options={
        'train_dataloader.dataset.sources': [str(pool)], 'train_dataloader.batch_size': 4,
        'train_cfg.max_iters': 2})
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    runner = build_runner(cfg)
    seen = []
    head = runner.model.neck.decoder_pred if hasattr(runner.model.neck, 'decoder_pred') else \
        next(m for m in runner.model.modules() if isinstance(m, torch.nn.Linear))
    head.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    runner.train()
    assert seen and set(seen) == {torch.bfloat16}
    state = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert all(v.dtype == torch.float32 for v in state['state_dict'].values()
               if v.is_floating_point())
    with pytest.raises(ValueError, match="optim_wrapper.type OptimWrapper.*'LayerDecay"):
        load_config(TINY_MAE, amp=True, cfg_options={'optim_wrapper.type': 'LayerDecayX'})


def test_paper_config_recipe():
    cfg = load_config('configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py')
    assert cfg.model.backbone.arch == 'small' and cfg.model.backbone.img_size == (32, 128)
    assert cfg.model.neck.grid == (8, 32) and cfg.model.neck.decoder_depth == 8
    opt = cfg.optim_wrapper
    assert opt.optimizer.betas == (0.9, 0.95) and opt.optimizer.weight_decay == 0.05
    assert opt.optimizer.lr == pytest.approx(1.5e-4 * 1024 / 256)
    assert cfg.train_cfg.max_epochs == 20 and cfg.auto_scale_lr.base_batch_size == 1024
    assert opt.paramwise_cfg.custom_keys['mask_token'].decay_mult == 0


def test_env_check_names_each_problem_in_one_line(monkeypatch):
    real = env_check.version
    fake = {'mmdet': '3.3.0', 'mmpretrain': None}

    def version(pkg):
        if pkg in fake:
            if fake[pkg] is None:
                raise env_check.PackageNotFoundError(pkg)
            return fake[pkg]
        return real(pkg)

    monkeypatch.setattr(env_check, 'version', version)
    real_import = env_check.importlib.import_module

    def import_module(name, *args):
        if name == 'mmcv._ext':
            raise ImportError('libmmcv_ext.so: cannot open shared object file')
        return real_import(name, *args)

    monkeypatch.setattr(env_check.importlib, 'import_module', import_module)
    found = env_check.problems()
    assert any(line.startswith('mmdet 3.3.0 is installed, 3.1.0 is required') for line in found)
    assert any(line.startswith('mmpretrain is not installed') for line in found)
    assert any(line.startswith('mmcv was built without ops') for line in found)
    assert all('\n' not in line for line in found)


# ---------------------------------------------------------------- tools/infer.py
TINY_FT = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'


@pytest.fixture(scope='module')
def recogniser_ckpt(tmp_path_factory):
    """A randomly initialised tiny recogniser checkpoint (infer needs weights, not skill)."""
    from mmengine.registry import DefaultScope
    from mmocr.registry import MODELS
    cfg = load_config(TINY_FT)
    cfg.model.backbone.pretrained = None
    with DefaultScope.overwrite_default_scope('mmocr'):
        model = MODELS.build(cfg.model)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def run_infer(*args, cwd=ROOT):
    return subprocess.run([sys.executable, 'tools/infer.py', *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_infer_reads_every_layout_the_datasets_read_results_alone_on_stdout(
        tmp_path, recogniser_ckpt):
    # the README's render folder: `render_synth.py --out X --format lmdb --unlabeled` puts
    # the LMDB at X/lmdb/<name>/; a pretraining dataset reads X by the same rule
    pretrain = tmp_path / 'pretrain'
    synth.render_dataset(pretrain, 3, 0, fmt=('lmdb', ), labeled=False, name='u')
    crops = tmp_path / 'crops'
    synth.render_dataset(crops, 2, 1, name='t')  # images below crops/imgs/t/ (nested)
    from mnsp_mm.datasets import UnlabeledTextDataset
    assert len(UnlabeledTextDataset(sources=[str(pretrain)], pipeline=[])) == 3
    out_file = tmp_path / 'preds.tsv'
    res = run_infer(TINY_FT, recogniser_ckpt, pretrain, crops, '--out', out_file,
                    '--device', 'cpu')
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.splitlines()
    assert len(lines) == 3 + 2, res.stdout  # nothing but the results
    assert all(len(line.split('\t')) == 3 for line in lines)
    assert lines[0].startswith(f'{pretrain}/lmdb/u:image-000000001\t')
    assert all('/imgs/' in line.split('\t')[0] for line in lines[3:])
    assert out_file.read_text().splitlines() == lines
    assert 'Loads checkpoint' in res.stderr and 'predictions written to' in res.stderr


def test_infer_errors_are_one_line(tmp_path, recogniser_ckpt, capsys):
    res = run_infer(TINY_FT, recogniser_ckpt, tmp_path / 'nowhere')  # the command line
    assert res.returncode == 1 and res.stdout == '' and 'Traceback' not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == \
        f'infer.py: error: input not found: {tmp_path / "nowhere"}'
    # the errors the datasets' rule raises (its main, in this process: no second stack import)
    import importlib.util
    spec = importlib.util.spec_from_file_location('infer_tool', ROOT / 'tools' / 'infer.py')
    infer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(infer)
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'list.txt').write_text('gone.png\n')
    for path, expected in ((tmp_path / 'empty', 'no samples found'),
                           (tmp_path / 'list.txt', 'gone.png')):
        code = infer.main([TINY_FT, str(recogniser_ckpt), str(path)])
        out, err = capsys.readouterr()
        assert code == 1 and out == '', out
        assert err.startswith('infer.py: error: ') and err.count('\n') == 1, err
        assert expected in err


def test_tensorboard_backend_writes_events_that_read_back(tmp_path, pool):
    """TensorBoard is in the environment (requirements/runtime.txt); the README's
    --cfg-options switch makes a run write to it, and its events file holds the losses."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from mnsp_mm.apis import build_runner
    cfg = load_config(TINY_MAE, work_dir=str(tmp_path), cfg_options={
        'train_dataloader.dataset.sources': [str(pool)], 'train_dataloader.batch_size': 4,
        'train_cfg.max_iters': 2, 'default_hooks.logger.interval': 1,
        'visualizer.vis_backends.0.type': 'TensorboardVisBackend'})
    build_runner(cfg).train()
    (events, ) = tmp_path.glob('*/vis_data/events.out.tfevents.*')
    acc = EventAccumulator(str(events.parent))
    acc.Reload()
    assert 'loss' in acc.Tags()['scalars']
    steps = [e.step for e in acc.Scalars('loss')]
    assert steps == [1, 2] and all(e.value > 0 for e in acc.Scalars('loss'))


# ------------------------------------------- suggested commands, dumped configs
def pasted(message: str, value) -> list:
    """The ``--cfg-options KEY=...`` an error suggests, with ``...`` replaced by ``value``,
    parsed by our tools' own command line (mmengine's DictAction underneath)."""
    import argparse
    import re

    from mnsp_mm.apis import add_runner_args
    (item, ) = re.findall(r'--cfg-options (\S+=)\.\.\.', message)
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_runner_args(parser)
    return parser.parse_args(['c.py', '--cfg-options', f'{item}{value}']).cfg_options


def test_every_path_error_suggests_an_option_that_works_when_pasted(tmp_path, monkeypatch,
                                                                    pool):
    from mnsp_mm.apis.prepare import check_data
    data = tmp_path / 'ft'
    synth.render_dataset(data, 2, 0, name='test')
    # a multi-set test config: the key names the set by its index, as mmengine parses it
    cfg = load_config(TINY_FT, cfg_options={
        'test_dataloader.dataset.datasets.0.data_root': str(tmp_path / 'gone')})
    with pytest.raises(FileNotFoundError) as err:
        check_data(cfg, ('test', ))
    options = pasted(str(err.value), data)
    assert list(options) == ['test_dataloader.dataset.datasets.0.data_root']
    check_data(load_config(TINY_FT, cfg_options=options), ('test', ))
    # a pretraining source (a list item), from a directory without the config's data
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        check_data(load_config(str(ROOT / TINY_MAE)), ('train', ))
    options = pasted(str(err.value), pool)
    assert list(options) == ['train_dataloader.dataset.sources.0.path']
    check_data(load_config(str(ROOT / TINY_MAE), cfg_options=options), ('train', ))
    # the dictionary file
    from mnsp_mm.apis.config_checks import check_dictionary_file
    with pytest.raises(FileNotFoundError) as err:
        check_dictionary_file(load_config(str(ROOT / TINY_FT), cfg_options={
            'model.decoder.dictionary.dict_file': 'no.txt'}))
    dict_file = ROOT / 'configs/_base_/textrecog/dicts/lower_english_digits.txt'
    check_dictionary_file(load_config(str(ROOT / TINY_FT),
                                      cfg_options=pasted(str(err.value), dict_file)))


def test_a_dumped_config_means_the_same_files_from_any_directory(tmp_path, monkeypatch, pool):
    from mnsp_mm.apis.prepare import check_data
    data = tmp_path / 'here' / 'ft'
    synth.render_dataset(data, 2, 0, name='train')
    synth.render_dataset(data, 2, 1, name='test')
    monkeypatch.chdir(tmp_path / 'here')  # relative paths, as a user types them
    cfg = load_config(str(ROOT / TINY_FT), cfg_options={
        'train_dataloader.dataset.data_root': 'ft',
        'test_dataloader.dataset.datasets.0.data_root': 'ft',
        'test_evaluator.metrics': [dict(type='TextPredictionDump', out_dir='preds')]})
    cfg.dump(str(tmp_path / 'dumped.py'))
    monkeypatch.chdir(tmp_path)  # elsewhere
    again = load_config(str(tmp_path / 'dumped.py'))
    assert again.train_dataloader.dataset.data_root == str(data)
    assert again.test_evaluator.metrics[0].out_dir == str(tmp_path / 'here' / 'preds')
    check_data(again, ('train', 'test'))
    # a pretraining config's relative sources, the same way
    monkeypatch.chdir(pool.parent)
    cfg = load_config(str(ROOT / TINY_MAE),
                      cfg_options={'train_dataloader.dataset.sources': [pool.name]})
    assert cfg.train_dataloader.dataset.sources == [str(pool)]
