"""Issue #18 items 3 and 6: bad configs, options and annotation files fail before heavy work,
naming the key (and the file, line or entry)."""
import argparse
import json
from pathlib import Path

import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mnsp_mm import synth
from mnsp_mm.apis import add_runner_args, build_runner, load_config
from mnsp_mm.apis.prepare import check_data, prepare_config

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'
TINY_FT = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
DEMO_FT = 'configs/demo/finetune.py'


@pytest.fixture
def no_runner(monkeypatch):
    """Fail the test if build_runner gets as far as building a runner."""
    def boom(cfg):
        raise AssertionError('the runner was built before the config error was found')
    monkeypatch.setattr(Runner, 'from_cfg', boom)


def _parse_error(capsys, *options) -> str:
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(['--cfg-options', *options])
    return capsys.readouterr().err


def test_cfg_options_without_equals_or_with_unbalanced_brackets(capsys):
    err = _parse_error(capsys, 'train_cfg.max_iters=5', 'train_cfg.max_iters')
    assert "'train_cfg.max_iters': expected KEY=VALUE" in err
    err = _parse_error(capsys, 'model.scales=[(8,32),(16,64)')
    assert 'unbalanced brackets' in err and 'model.scales' in err
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    opts = parser.parse_args(['--cfg-options', 'a.b=[1,2]', 'c=x=y']).cfg_options
    assert opts == {'a.b': [1, 2], 'c': 'x=y'}


def test_misspelt_top_level_key_gets_did_you_mean():
    with pytest.raises(KeyError, match=r"'max_iterz' is not a key .* did you mean 'max_iters'"):
        load_config(TINY_MAE, cfg_options={'max_iterz': 5})
    with pytest.raises(KeyError, match=r"did you mean 'train_dataloader'"):
        load_config(TINY_MAE, cfg_options={'train_dataloder.batch_size': 5})
    load_config(TINY_MAE, cfg_options={'experiment_name': 'x', 'load_from': None})  # runner keys


@pytest.mark.parametrize('option, match', [
    ({'train_cfg.max_iters': -5}, r'train_cfg\.max_iters=-5: must be an integer >= 1'),
    ({'train_cfg.max_iters': 2.5}, r'train_cfg\.max_iters=2\.5'),
    ({'train_dataloader.batch_size': 0}, r'train_dataloader\.batch_size=0'),
    ({'train_dataloader.num_workers': -1}, r'train_dataloader\.num_workers=-1: .* >= 0'),
    ({'default_hooks.checkpoint.interval': 0}, r'default_hooks\.checkpoint\.interval=0'),
])
def test_out_of_range_numbers_name_the_key(option, match, no_runner):
    with pytest.raises(ValueError, match=match):
        build_runner(load_config(TINY_MAE, cfg_options=option))


def test_missing_dictionary_file_names_the_key(tmp_path, no_runner):
    cfg = load_config(TINY_FT, cfg_options={
        'model.decoder.dictionary.dict_file': str(tmp_path / 'nope.txt')})
    with pytest.raises(FileNotFoundError,
                       match=r"model\.decoder\.dictionary\.dict_file='.*nope\.txt' does not"):
        build_runner(cfg)


def test_one_option_points_every_test_set_of_a_multi_set_config_at_new_data(tmp_path):
    sets = load_config(DEMO_FT).test_evaluator.dataset_prefixes
    for i, name in enumerate(sets):
        synth.render_dataset(tmp_path, 2, i, name=name)
    cfg = load_config(DEMO_FT, cfg_options={'test_dataloader.dataset.data_root': str(tmp_path)})
    datasets = cfg.test_dataloader.dataset.datasets
    assert 'data_root' not in cfg.test_dataloader.dataset
    assert [d.data_root for d in datasets] == [str(tmp_path)] * len(sets) == [str(tmp_path)] * 8
    prepare_config(cfg)
    check_data(cfg, ('test', ))
    from mmocr.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmocr'):
        built = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(built) == 2 * len(sets)
    assert all(str(tmp_path) in built.get_data_info(i)['img_path'] for i in range(len(built)))
    (tmp_path / 'textrecog_curved.json').unlink()
    with pytest.raises(FileNotFoundError, match=r'test_dataloader\.dataset\.datasets\.1'
                                                r'\.ann_file=.textrecog_curved\.json'):
        check_data(load_config(DEMO_FT, cfg_options={
            'test_dataloader.dataset.data_root': str(tmp_path)}), ('test', ))


def _ft_with(tmp_path, name, loaders, no_runner):
    key = 'train_dataloader.dataset' if 'train' in loaders else 'test_dataloader.dataset'
    opts = {f'{key}.data_root': str(tmp_path)}
    if 'train' in loaders:
        opts[f'{key}.ann_file'] = name
    else:
        opts['test_dataloader.dataset.datasets.0.ann_file'] = name
    cfg = prepare_config(load_config(TINY_FT, cfg_options=opts))
    check_data(cfg, loaders)  # what MnspRunner.train()/test() runs first


def test_malformed_annotation_json_names_the_file(tmp_path, no_runner):
    (tmp_path / 'broken.json').write_text('{"metainfo": {}, "data_list": [{"img_path": "a.png",')
    with pytest.raises(ValueError, match=r"train_dataloader\.dataset\.ann_file: .*broken\.json "
                                         r"is not valid JSON: .* line 1 column"):
        _ft_with(tmp_path, 'broken.json', ('train', ), no_runner)
    cfg = load_config(TINY_FT, cfg_options={
        'train_dataloader.dataset.data_root': str(tmp_path),
        'train_dataloader.dataset.ann_file': 'broken.json', 'data_check.annotations': False})
    from mnsp_mm.apis.config_checks import check_annotation_files
    assert check_annotation_files(cfg, ('train', )) == {}  # switched off
    (tmp_path / 'list.json').write_text('[1, 2]')
    with pytest.raises(ValueError, match=r'list\.json is not an MMOCR annotation file'):
        _ft_with(tmp_path, 'list.json', ('train', ), no_runner)


def test_malformed_evaluation_entries_are_found_at_start_with_file_and_index(tmp_path,
                                                                           no_runner):
    synth.render_dataset(tmp_path, 6, 0, name='test')
    path = tmp_path / 'textrecog_test.json'
    ann = json.loads(path.read_text())
    ann['data_list'][2]['instances'][0]['text'] = 12345
    del ann['data_list'][4]['instances']
    path.write_text(json.dumps(ann))
    with pytest.raises(ValueError, match=r"textrecog_test\.json has 2 entries that cannot be "
                                         r"evaluated .*entry 2: label_not_text .*entry 4: "
                                         r"label_no_instance"):
        _ft_with(tmp_path, 'textrecog_test.json', ('test', ), no_runner)


# ----------------------------------------------------------------------- issue #25
def test_a_config_variable_set_from_the_command_line_is_refused_naming_where_it_went():
    """Item 8: ``max_iters=-5`` was accepted and ignored (the base config had used it)."""
    with pytest.raises(KeyError, match=r"--cfg-options max_iters: 'max_iters' is a variable of "
                                       r".*changes nothing at run time; it went to "
                                       r"train_cfg\.max_iters, .*set train_cfg\.max_iters=\.\.\. "
                                       r"instead"):
        load_config(TINY_FT, cfg_options={'max_iters': -5})
    with pytest.raises(KeyError, match=r"it went to train_dataloader\.dataset\.data_root"):
        load_config(TINY_FT, cfg_options={'data_root': '/elsewhere'})
    with pytest.raises(KeyError, match=r"dictionary\.dict_file: .*it went to model\.decoder\."
                                       r"dictionary\.dict_file"):
        load_config(TINY_FT, cfg_options={'dictionary.dict_file': 'x.txt'})
    with pytest.raises(KeyError, match=r"'grid' is a variable"):
        load_config(DEMO_FT, cfg_options={'grid': (2, 8)})
    # keys something reads at run time stay settable, in the config or not
    cfg = load_config(TINY_FT, cfg_options={
        'work_dir': 'w', 'randomness.seed': 3, 'load_from': 'x.pth', 'resume': False,
        'default_scope': 'mmocr', 'custom_imports.imports': ['mnsp_mm'], 'log_level': 'WARNING',
        'env_cfg.cudnn_benchmark': False, 'data_check': dict(annotations=False),
        'experiment_name': 'e', 'train_cfg.max_iters': 7, 'visualizer.name': 'v',
        'tta_model': None})
    assert cfg.train_cfg.max_iters == 7 and cfg.randomness.seed == 3


@pytest.mark.parametrize('option, match', [
    ({'optim_wrapper.optimizer.lr': -1}, r'optim_wrapper\.optimizer\.lr=-1: must be a number '
                                         r'>= 0'),
    ({'optim_wrapper.optimizer.lr': 'fast'}, r"optim_wrapper\.optimizer\.lr='fast'"),
    ({'optim_wrapper.optimizer.weight_decay': -0.1}, r'optimizer\.weight_decay=-0\.1'),
    ({'optim_wrapper.optimizer.betas': (0.9, 1.5)}, r'optimizer\.betas=\(0\.9, 1\.5\): must be '
                                                    r'numbers >= 0 and < 1'),
])
def test_bad_optimizer_settings_name_the_key_before_the_model_is_built(option, match,
                                                                       no_runner):
    """Item 9: torch said ``Invalid learning rate: -1`` after building the model."""
    with pytest.raises(ValueError, match=match):
        build_runner(load_config(TINY_MAE, cfg_options=option))
