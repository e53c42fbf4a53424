"""The configs in the OpenMMLab layout (issue #26): one folder per algorithm, names that say
the batch and schedule, metafiles naming existing configs, and an old path that fails naming
its new file."""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from mmengine.config import Config

from mnsp_mm.apis import load_config
from mnsp_mm.apis.config_checks import check_dictionary_file
from mnsp_mm.utils.moved_configs import MOVED_BASE_DIRS, MOVED_CONFIGS, moved_path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
ALGORITHMS = ('maerec', 'lmim', 'mnsp')
# {algorithm}_{backbone}_{NxB}-{schedule}_{dataset}, or a test config's `test` in their place
NAME = re.compile(r'^[a-z]+_text-vit-[a-z]+_(\d+xb\d+-[a-z0-9.-]+\d(e|iter)|test|'
                  r'official-weights-test)_[a-z0-9-]+(_[a-z-]+)?$')
OLD = 'configs/pretrain/lmim_text-vit-s_union14m-u_10e.py'
NEW = 'configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py'


@pytest.mark.parametrize('config', CONFIGS)
def test_every_config_loads(config):
    cfg = Config.fromfile(str(ROOT / config))
    assert cfg.default_scope in ('mmpretrain', 'mmocr'), config


def test_layout_is_one_folder_per_algorithm_and_the_demo():
    folders = {p.name for p in (ROOT / 'configs').iterdir() if p.is_dir()}
    assert folders == {'_base_', 'demo', *ALGORITHMS}
    for algo in ALGORITHMS:
        for config in (ROOT / 'configs' / algo).glob('*.py'):
            assert NAME.match(config.stem), config.name
        files = {p.name for p in (ROOT / 'configs' / algo).iterdir()}
        assert {'README.md', 'metafile.yml'} <= files, algo


def test_metafiles_name_every_algorithm_config_and_only_existing_ones():
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    assert index['Import'] == [f'configs/{algo}/metafile.yml' for algo in ALGORITHMS]
    for algo in ALGORITHMS:
        meta = yaml.safe_load((ROOT / 'configs' / algo / 'metafile.yml').read_text())
        named = set()
        for model in meta['Models']:
            assert (ROOT / model['Config']).is_file(), model['Config']
            assert Path(model['Config']).stem == model['Name'], model['Name']  # mim's config id
            named.add(model['Config'])
        assert named == {p.relative_to(ROOT).as_posix()
                         for p in (ROOT / 'configs' / algo).glob('*.py')}, algo


def test_the_moved_table_names_existing_files_and_no_old_path_is_left():
    for old, new in MOVED_CONFIGS.items():
        assert (ROOT / 'configs' / new).is_file(), new
        assert not (ROOT / 'configs' / old).exists(), old
    for old, new in MOVED_BASE_DIRS.items():
        assert (ROOT / 'configs' / new).is_dir() and not (ROOT / 'configs' / old).exists()
    assert not (ROOT / 'configs' / 'pretrain').exists()
    assert not (ROOT / 'configs' / 'finetune').exists()
    # spelled as given: relative, absolute, inside an installed package
    assert moved_path(OLD) == NEW
    assert moved_path(str(ROOT / OLD)) == str(ROOT / NEW)
    assert moved_path('/site/mnsp_mm/.mim/configs/finetune/_base_/dicts/x.txt') == (
        '/site/mnsp_mm/.mim/configs/_base_/textrecog/dicts/x.txt')
    assert moved_path(NEW) is None and moved_path('configs/demo/finetune.py') is None


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}', ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('argv', [['train', OLD], ['test', OLD, 'x.pth']])
def test_our_tools_on_an_old_config_path_name_the_new_one(argv, monkeypatch):
    """tools/train.py and tools/test.py end with one line naming the new file."""
    tool = _tool(argv[0])
    monkeypatch.setattr(sys, 'argv', [f'{argv[0]}.py', *argv[1:]])
    with pytest.raises(SystemExit) as e:
        tool.main()
    message = str(e.value.code)
    assert f'config not found: {OLD}' in message and f'it is now {NEW}' in message
    assert '\n' not in message
    monkeypatch.setattr(sys, 'argv', [f'{argv[0]}.py', 'nowhere.py', *argv[2:]])
    with pytest.raises(SystemExit, match='^config not found: nowhere.py$'):
        tool.main()


def test_loading_an_old_config_or_base_or_dictionary_names_the_new_file(tmp_path):
    """The package function every tool loads configs with, a user config inheriting an old
    base, and a config dumped before the move (its dictionary path)."""
    with pytest.raises(FileNotFoundError, match=f'it is now {NEW}'):
        load_config(OLD)
    user = tmp_path / 'mine.py'
    user.write_text(f"_base_ = ['{ROOT}/configs/pretrain/_base_/default_runtime.py']\n")
    with pytest.raises(FileNotFoundError, match=r'mine.py: base config not found: .*'
                       r'it is now .*configs/_base_/pretrain/default_runtime.py'):
        load_config(str(user))
    old_dict = f'{ROOT}/configs/demo/../finetune/_base_/dicts/lower_english_digits.txt'
    cfg = Config(dict(model=dict(decoder=dict(dictionary=dict(dict_file=old_dict)))))
    with pytest.raises(FileNotFoundError, match='model.decoder.dictionary.dict_file not found'
                       r'.*it is now .*configs/_base_/textrecog/dicts/lower_english_digits.txt'):
        check_dictionary_file(cfg)


@pytest.mark.parametrize('config, stage', [('configs/demo/finetune.py', 'finetune_mae'),
                                           ('configs/demo/mae_pretrain.py', 'pretrain_mae')])
def test_the_demo_configs_differ_from_the_recorded_stages_by_the_stem_switch_alone(
        config, stage, tmp_path):
    """The study's committed stages were run before the demo configs turned on the
    channels-last stem (a speed switch, issue #23): the configs' hash is theirs with the
    switch taken out, so nothing else moved (the configs layout move of issue #26 included),
    and with it in, the stage is new (a work dir redoes it rather than mixing the two)."""
    from mmengine.config import Config

    from mnsp_mm.demo.scheduler import config_hash
    spec = importlib.util.spec_from_file_location('demo_tool', ROOT / 'tools' / 'demo.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    study = tool.Study(tool.parse_args(['--profile', 'regime', '--work-dir', str(tmp_path)]))
    recorded = json.loads((ROOT / 'docs/study/regime' / stage / 'params.json').read_text())
    assert study.params(config)['config'] != recorded['config']

    def without_switch(node):
        if isinstance(node, dict):
            return {k: without_switch(v) for k, v in node.items() if k != 'stem_channels_last'}
        return [without_switch(v) for v in node] if isinstance(node, list) else node
    content = Config.fromfile(str(ROOT / config))._cfg_dict.to_dict()
    assert config_hash(without_switch(content)) == recorded['config']
