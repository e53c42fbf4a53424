"""The study's plan, budget accounting and aggregation over seeds (no training here; the
quick profile's run is in test_demo.py)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mnsp_mm.demo import METHODS, PROFILES, build_plan
from mnsp_mm.demo.plan import RECIPES, SCRATCH, FinetuneRun, PretrainRun, row_label
from mnsp_mm.demo.profiles import TEST_SETS
from mnsp_mm.evaluation.reading_table import ReadingTable

ROOT = Path(__file__).resolve().parents[1]


def _tool(path):
    """A script under tools/ loaded as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / 'tools' / path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _recipe_rows(study) -> dict:
    """``{row: [its fine-tuning runs]}`` of a study's recipe (extra) rows."""
    rows = {}
    for r in study.finetune_runs:
        if r.recipe:
            rows.setdefault(r.row, []).append(r)
    return rows


def _study(profile, tmp_path):
    tool = _tool('demo.py')
    study = tool.Study(tool.parse_args(['--profile', profile, '--work-dir', str(tmp_path)]))
    study.records['render'] = dict(pool=str(tmp_path / 'pool'))
    for run in study.pretrain_runs:
        study.records[run.stage] = dict(checkpoint=f'{run.stage}.pth')
    return study


def test_study_plan_has_the_seeds_rows_and_ablations_the_issue_asks_for():
    P = PROFILES['equal_budget']
    pretrain, finetune = build_plan(P.methods, P.pretrain_seeds, P.finetune_seeds, P.recipes)
    stages = [r.stage for r in pretrain] + [r.stage for r in finetune]
    assert len(stages) == len(set(stages))
    for m in ('mae', 'lmim', 'mnsp'):
        assert {r.seed for r in pretrain if r.method == m} == {0, 1}
        assert [r.seed for r in finetune if r.row == m and r.pretrain_seed == 0] == [0, 1, 2]
        assert [r.seed for r in finetune if r.row == m and r.pretrain_seed == 1] == [0]
    assert [r.seed for r in finetune if r.row == 'scratch'] == [0, 1, 2]
    for m in ('lmim_pixel', 'mnsp_pixel', 'lmim_no_guidance', 'lmim_no_alignment',
              'mnsp_nsp_only', 'mnsp_mim_only', 'mnsp_nsp_mim', 'mnsp_2_scales'):
        assert [r.stage for r in pretrain if r.method == m] == [f'pretrain_{m}']
    assert PretrainRun('lmim', 1).teacher_stage == 'pretrain_mae_seed1'
    assert PretrainRun('mnsp_pixel').teacher_stage is None
    assert pretrain[0] == PretrainRun('mae', 0)  # every teacher starts first
    assert FinetuneRun('mae', 0, 0, 'layer_decay').stage == 'finetune_mae_layer_decay'
    extra = [(r.stage, r.iters(100)) for r in finetune if r.recipe]
    assert extra == [('finetune_scratch_long', 200), ('finetune_mae_long', 200)]
    assert FinetuneRun('mae', 0, 0, 'layer_decay').iters(100) == 100
    assert row_label('mae:layer_decay') == 'MAE (MAERec), fine-tuned with layer decay 0.75'
    assert PROFILES['default'].methods == ('mae', 'lmim', 'mnsp')


def test_bad_plans_name_the_profile_field():
    with pytest.raises(ValueError, match='Profile.methods: unknown'):
        build_plan(('mae', 'byol'), 1, 1)
    with pytest.raises(ValueError, match='needs its teacher mae'):
        build_plan(('lmim', ), 1, 1)
    with pytest.raises(ValueError, match='Profile.recipes'):
        build_plan(('mae', ), 1, 1, (('lmim', 'long'), ))
    with pytest.raises(ValueError, match='finetune_seeds=0'):
        build_plan(('mae', ), 1, 0)


@pytest.mark.parametrize('profile', ['default', 'study', 'equal_budget', 'regime', 'regime_long',
                                     'nsp_variants', 'regime_confirm'])
def test_budget_every_method_sees_the_same_images_from_random_weights(profile, tmp_path):
    """Budget accounting: iterations x batch is one number for every pretraining run of a
    profile, no run starts from another run's weights, and each teacher is its seed's MAE
    (the budget rows' multiple and longer teacher are in their labels)."""
    study = _study(profile, tmp_path)
    seen = set()
    for run in study.pretrain_runs:
        options = study.pretrain_options(run)
        images = options['train_cfg.max_iters'] * options['train_dataloader.batch_size']
        method = METHODS[run.method]
        assert 'model.backbone.pretrained' not in options
        teacher = options.get('model.target_generator.checkpoint')
        assert teacher == (f'{PretrainRun(method.teacher_method, run.seed).stage}.pth'
                           if method.teacher else None), run
        if method.teacher_method != 'mae':
            assert METHODS[method.teacher_method].budget == 16 and '16x' in method.label
        if method.budget != 1:  # the budget rows, labelled as such
            assert images == method.budget * study.profile.pretrain_iters * \
                study.profile.pretrain_batch
            assert f'{method.budget}x' in method.label
            continue
        seen.add(images)
        for key, value in method.options:  # a recipe row: its override, nothing else
            assert options[key] == value
        assert options['randomness.seed'] == run.seed
    P = study.profile
    assert seen == {P.pretrain_iters * P.pretrain_batch}


def test_adding_a_row_leaves_the_done_stages_done(tmp_path):
    """Which rows and seeds a profile has is the plan, not an input of a stage."""
    from dataclasses import replace
    study = _study('default', tmp_path)
    before = study.params()
    study.profile = replace(study.profile, methods=PROFILES['equal_budget'].methods,
                            finetune_seeds=3)
    assert study.params() == before
    study.profile = replace(study.profile, attention_images=3, probe_test=5)
    assert study.params() == before and study.params(stage='render') == before
    assert study.params(stage='attention') != before
    assert study.params(stage='diagnostics') != study.params(stage='attention')
    study.profile = replace(study.profile, pretrain_iters=study.profile.pretrain_iters + 1)
    assert study.params() != before


@pytest.mark.parametrize('method', sorted(METHODS))
def test_every_method_config_builds_and_gives_its_losses(method):
    """Each pretraining config of the study builds from random weights and its loss has
    exactly the terms its switches leave on."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from mnsp_mm.apis import load_config
    cfg = load_config(str(ROOT / METHODS[method].config),
                      cfg_options=dict(METHODS[method].options) or None)
    if cfg.model.get('target_generator', {}).get('type') == 'FrozenTeacher':  # no file here
        cfg.model.target_generator.update(checkpoint=None, random_init=True)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    losses = model.loss(model.dummy_inputs(2), [])
    expected = {
        'mae': {'loss'}, 'lmim': {'loss_mim', 'loss_align'},
        'lmim_pixel': {'loss_mim', 'loss_align'}, 'lmim_no_guidance': {'loss_mim'},
        'lmim_no_alignment': {'loss_mim'}, 'mnsp': {'loss_nsp', 'loss_mim', 'loss_mla'},
        'mnsp_pixel': {'loss_nsp', 'loss_mim', 'loss_mla'}, 'mnsp_nsp_only': {'loss_nsp'},
        'mnsp_mim_only': {'loss_mim'}, 'mnsp_nsp_mim': {'loss_nsp', 'loss_mim'},
        'mnsp_2_scales': {'loss_nsp', 'loss_mim', 'loss_mla'}, 'mae_4x': {'loss'},
        'mae_16x': {'loss'}, 'lmim_t16': {'loss_mim', 'loss_align'},
        'mnsp_t16': {'loss_nsp', 'loss_mim', 'loss_mla'},
        'mnsp_16x': {'loss_nsp', 'loss_mim', 'loss_mla'}, 'mnsp_nsp_only_16x': {'loss_nsp'},
        'mnsp_mim_only_16x': {'loss_mim'},
        **{m: {'loss_nsp', 'loss_mim', 'loss_mla'} for m in METHODS
           if METHODS[m].group == 'nsp_variant'}}
    # a recipe, lever or budget row changes options only: the terms of its config's method
    expected = expected.get(method) or next(v for k, v in expected.items()
                                            if METHODS[k].config == METHODS[method].config)
    assert set(losses) == expected
    assert all(torch.isfinite(v) for v in losses.values())
    if method == 'mnsp_2_scales':
        assert model.grids == [(2, 8), (4, 16)]
    if method.endswith('_pixel'):
        assert type(model.target_generator).__name__ == 'PixelTarget'


def _rows(preds, gts):
    return {'a': [dict(gt=g, pred=p) for g, p in zip(gts, preds)]}


def test_reading_table_pools_runs_crop_by_crop_and_keeps_their_spread():
    """Known case: two runs read crops {0, 2} and {0, 1}: each crop scores the mean over
    runs (1, .5, .5, 0), both runs read half of the crops, and the paired difference to a
    method reading only crop 0 is 0.5 - 0.25 = 0.25."""
    gts = ['ab', 'cd', 'ef', 'gh']
    run1 = _rows(['ab', 'x', 'ef', 'x'], gts)
    run2 = _rows(['ab', 'cd', 'x', 'x'], gts)
    other = _rows(['ab', 'x', 'x', 'x'], gts)
    table = ReadingTable({'two runs': [run1, run2], 'one run': other}, ['zz'], num=500)
    assert np.allclose(table.word['two runs']['a'], [1, .5, .5, 0])
    assert table.run_means('two runs') == [0.5, 0.5]
    assert table.sets_with('iv') == [] and table.interval(table.word['one run'], 'iv') is None
    iv = ReadingTable({'m': [_rows(['ab', 'x'], ['ab', 'cd'])]}, ['ab', 'cd'], num=200)
    two = {'a': _rows(['ab'], ['ab'])['a'], 'b': _rows(['x'], ['zz'])['a']}
    both = ReadingTable({'m': two}, ['ab'], num=200)
    assert both.sets_with('iv') == ['a'] and both.interval(both.word['m'], 'iv') is None
    assert both.interval(both.word['m'], 'iv', skip_empty=True).value == 1.0
    assert iv.interval(iv.word['m'], 'iv').value == 0.5
    assert table.difference('two runs', 'one run').value == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"'two runs' \(run 1\)"):
        ReadingTable({'two runs': [run1, _rows(['ab'] * 4, ['ab', 'cd', 'ef', 'zz'])]}, [])


def test_forest_plot_draws_every_difference(tmp_path):
    from mnsp_mm.demo.figures import forest_plot
    from mnsp_mm.evaluation.bootstrap import Interval
    path = forest_plot([('LMIM', 'main', Interval(-1.0, -3.0, 1.0)),
                        ('MNSP, NSP only', 'ablation', Interval(2.0, 0.5, 3.5))], 'MAE',
                       tmp_path / 'forest.png')
    assert path.stat().st_size > 1000


def test_probe_annotations_work_from_a_relative_work_dir(tmp_path, monkeypatch):
    """The demo's default work dir is relative (work_dirs/demo): the probes' annotation files
    live in another directory, so their image paths must be absolute (a relative one was
    read against the annotation's directory and not found)."""
    import json
    monkeypatch.chdir(tmp_path)
    study = _study('quick', Path('work'))
    ft = Path('work/data/finetune')
    (ft / 'imgs').mkdir(parents=True)
    entries = [dict(img_path=f'imgs/{i}.png', instances=[dict(text='ab')]) for i in range(100)]
    for e in entries:
        (ft / e['img_path']).write_bytes(b'')
    (ft / 'textrecog_train.json').write_text(json.dumps(dict(metainfo={}, data_list=entries)))
    study.records['render']['finetune'] = str(ft)
    stage = Path('work/diagnostics')
    stage.mkdir(parents=True)
    files = study.probe_annotations(stage)
    for part, num in (('train', study.profile.probe_train), ('test', study.profile.probe_test)):
        rows = json.loads(files[part].read_text())['data_list']
        assert len(rows) == num and all(Path(r['img_path']).is_absolute() for r in rows)
        assert all((files[part].parent / r['img_path']).is_file() for r in rows)
    study.profile = type(study.profile)(**{**study.profile.__dict__, 'probe_train': 99})
    with pytest.raises(ValueError, match='probe_train \\+ probe_test = 131'):
        study.probe_annotations(stage)


def test_stage_params_do_not_depend_on_where_the_checkout_is(tmp_path, monkeypatch):
    """A config with ``{{ fileDirname }}`` (the demo's dictionary path) hashes the same from
    two clones: a work dir made by one clone is not redone (deleted first) by another."""
    from mnsp_mm.demo import scheduler
    study = _study('default', tmp_path / 'work')
    hashes = []
    for clone in ('a', 'b'):
        root = tmp_path / clone
        (root / 'configs').mkdir(parents=True)
        (root / 'configs' / 'c.py').write_text("dict_file = '{{ fileDirname }}/dict.txt'\n")
        monkeypatch.setattr(scheduler, 'REPO', root)
        hashes.append(study.params('configs/c.py')['config'])
    assert hashes[0] == hashes[1]


def test_regime_plan_has_the_probe_validation_budget_and_label_rows(tmp_path):
    """The profile behind "where pretraining pays": validation-split rows (re-initialised
    parts, the lr trials for scratch and MAE alike), recipe-search encoders read only by the
    probe, the budget curve with its longer teacher, and the label curve."""
    study = _study('regime', tmp_path)
    rows = {r.row for r in study.finetune_runs}
    assert {'scratch:val', 'mae:val', 'mae:val_reinit_stem', 'mae:val_reinit_blocks'} <= rows
    for lr in ('5e-4', '6e-3'):  # the same trials for both initialisations
        assert {f'scratch:val_lr{lr}', f'mae:val_lr{lr}'} <= rows
    assert all(r.recipe_spec.split == 'val' for r in study.finetune_runs  # never on test
               if r.init in METHODS and METHODS[r.init].group == 'recipe')
    for n in (1, 3):  # the label curve, on the validation split, for every init
        assert {f'scratch:val_labels{n}k', f'mae:val_labels{n}k', f'mae_4x:val_labels{n}k'} <= rows
    assert {'scratch:val_long3', 'mae:val_long3'} <= rows  # the same longer recipe for both
    assert study.finetune_runs[0].iters(800) == 800
    assert FinetuneRun('mae', 0, 0, 'val_long3').iters(800) == 2400
    assert RECIPES['val_writes0.25'].reinit == ('writes*0.25', )
    seeds = _study('regime_seeds', tmp_path)  # seed 0 is regime_long's stage, resumed
    stages = {r.stage for r in seeds.finetune_runs if r.recipe}
    assert {'finetune_scratch_val_long3', 'finetune_scratch_val_long3_ft2',
            'finetune_mae_16x_val_long3_writes0.25_ft1',
            'finetune_lmim_t16_val_long3_writes0.25_ft2'} <= stages and len(stages) == 18
    assert seeds.params(stage='finetune_scratch_val_long3') == \
        _study('regime_long', tmp_path).params(stage='finetune_scratch_val_long3')
    long = _study('regime_long', tmp_path)
    assert {'mae_16x:val', 'mae_16x:val_labels1k', 'lmim_t16:val', 'mnsp_t16:val'} <= {
        r.row for r in long.finetune_runs}
    assert {'mae_16x:val_long3_labels1k_writes0.25', 'lmim_t16:val_long3_writes0.25',
            'mnsp_t16:val_long3_writes0.25'} <= {r.row for r in long.finetune_runs}
    few = RECIPES['val_long3_labels1k_writes0.25']  # scratch's pair: val_long3_labels1k
    assert (few.steps, few.labels, few.reinit, few.split) == (3, 1000, ('writes*0.25', ), 'val')
    assert PretrainRun('lmim_t16').teacher_stage == 'pretrain_mae_16x'
    assert long.pretrain_runs[0].method == 'mae_16x'  # the longest teacher starts first
    probes = study.probe_stage_names()
    assert probes[0] == 'probe_random' and len(probes) == 1 + len(study.pretrain_runs)
    # validation rows test on the validation split only
    val = FinetuneRun('mae', 0, 0, 'val_reinit_stem')
    assert study.eval_sets(val) == ['val_regular', 'val_default']
    assert study.eval_sets(FinetuneRun('mae')) == list(TEST_SETS)


def test_stage_identity_keeps_plain_stages_and_tells_recipes_apart(tmp_path):
    study = _study('regime', tmp_path)
    assert study.stage_identity('finetune_mae') == {}
    assert study.stage_identity('pretrain_mae') == {}
    assert study.params(stage='finetune_mae') == _study('default', tmp_path).params(
        stage='finetune_mae')
    a = study.params(stage='finetune_mae_val_reinit_stem')
    b = study.params(stage='finetune_mae_val_reinit_norms')
    assert a != b and a['identity']['reinit'] == ['stem']
    assert study.stage_identity('pretrain_mae_lr5e-4')['options'] == [
        ['optim_wrapper.optimizer.lr', 5e-4]]
    assert _study('regime_long', tmp_path).stage_identity('pretrain_lmim_t16')['teacher'] \
        == 'mae_16x'


def test_only_runs_the_named_stages_and_what_they_need(tmp_path):
    study = _study('regime', tmp_path)
    deps = {'pretrain_mae': ('render', ), 'finetune_mae_val': ('render', 'pretrain_mae',
                                                               'validation'),
            'finetune_scratch': ('render', ), 'probe_random': ('render', 'validation')}
    assert study.selected(deps) >= set(deps)
    study.args.only = ['finetune_*_val']
    assert study.selected(deps) == {'finetune_mae_val', 'pretrain_mae', 'render',
                                    'validation'}
    study.args.only = ['nothing*']
    with pytest.raises(SystemExit, match='no stage matches'):
        study.selected(deps)


def _fake_validation_predictions(study, tmp_path):
    """Report row -> its validation runs, each given predictions on 30 crops per validation
    set: scratch's plain row reads every crop, the others every third (crops 0, 3, ...)."""
    import json

    from mnsp_mm.demo.profiles import VAL_SETS
    rows = {}
    for run in study.finetune_runs:
        if run.recipe_spec.split != 'val':
            continue
        folder = tmp_path / run.stage
        folder.mkdir()
        for s in VAL_SETS:
            with open(folder / f'val_{s}.jsonl', 'w') as f:
                for i in range(30):
                    good = run.row == f'{SCRATCH}:val' or i % 3 == 0
                    f.write(json.dumps(dict(gt=f'w{i}', pred=f'w{i}' if good else 'x')) + '\n')
        study.records[run.stage] = dict(predictions=str(folder))
        rows.setdefault(run.row, []).append(run)
    return rows


def test_regime_report_tables_from_stage_records(tmp_path):
    """The "Where pretraining pays" tables read back from (here fabricated) stage records:
    probe rows paired with random weights, validation rows paired with their plain row."""
    import json

    from mnsp_mm.demo import regime_report as W
    from mnsp_mm.demo.profiles import VAL_SETS
    study = _study('regime', tmp_path)
    rng = np.random.default_rng(0)
    sets = {f'val_{p}': None for p in VAL_SETS}

    def probe_file(name, p):
        res = {k: dict(value=p, low=p - .05, high=p + .05, n=40, sets={
            s: dict(value=p, n=20, correct=(rng.random(20) < p).astype(int).tolist())
            for s in sets}) for k in ('linear', 'block')}
        res['scales'] = dict(weights={'layers.0.attn.qkv.rms': .1, 'layers.0.ln1.gain': 1.},
                             stream_rms=[1., 2.], attention_entropy=[.9, .8],
                             dead_stem_channels=[0., .1])
        f = tmp_path / f'{name}.json'
        f.write_text(json.dumps(res))
        return dict(encoder=name, results=str(f))
    study.records['probe_random'] = probe_file('random', .1)
    for run in study.pretrain_runs:
        study.records[run.stage].update(images_seen=16000)
        study.records[f'probe_{run.stage}'] = probe_file(run.stage, .6)
    lines = W.probe_lines(study)
    assert len(lines) == 2 + 1 + len(study.pretrain_runs)
    assert '(no measurable difference)' not in lines[3]  # 60% vs 10% on 40 crops
    assert 'random weights' in lines[2] and '| - |' in lines[2]
    assert '0.90, 0.80' in W.scales_lines(study)[2]
    table = W.validation_lines(study, _fake_validation_predictions(study, tmp_path))
    mae = next(line for line in table if line.startswith('| MAE (MAERec), validation split |'))
    assert '100.0' not in mae and '-66.7' in mae  # paired with scratch's validation row
    reinit = next(line for line in table if 'stem re-initialised' in line)
    assert 'no measurable difference' in reinit  # the same crops as the plain MAE row
    lr = next(line for line in table if line.startswith('| MAE (MAERec), validation split, '
                                                      'lr 0.006 |'))
    # and with scratch under the same recipe (here both read the same crops)
    assert '+0.0 [+0.0, +0.0] (no measurable difference)' in lr.rsplit('|', 2)[1]
    assert next(line for line in table if line.startswith('| scratch, validation split, lr'))\
        .endswith('| - |')


def test_regime_tables_tool_reads_the_finished_validation_rows(tmp_path, capsys):
    """tools/analysis/regime_tables.py: the validation rows whose stages are done, paired,
    with their fine-tuning curves; rows not yet run are left out."""
    from mnsp_mm.demo.profiles import VAL_SETS
    tool = _tool('analysis/regime_tables.py')
    with pytest.raises(SystemExit, match='no validation row of profile regime is done'):
        tool.main([str(tmp_path), '--profile', 'regime'])
    for stage, good in (('finetune_scratch_val', 3), ('finetune_mae_val', 1)):
        folder = tmp_path / stage
        (folder / 'predictions').mkdir(parents=True)
        for s in VAL_SETS:
            with open(folder / 'predictions' / f'val_{s}.jsonl', 'w') as f:
                for i in range(30):
                    pred = f'w{i}' if i % 3 < good else 'x'
                    f.write(json.dumps(dict(gt=f'w{i}', pred=pred)) + '\n')
        with open(folder / 'losses.jsonl', 'w') as f:
            for i in range(1, 101):
                f.write(json.dumps(dict(iter=i, loss=4.0 if i < 60 * good / 3 + 20 else 1.)) + '\n')
        (folder / 'done.json').write_text(json.dumps(dict(
            predictions=str(folder / 'predictions'), checkpoint=str(folder / 'iter_100.pth'))))
    tool.main([str(tmp_path), '--profile', 'regime'])
    out = capsys.readouterr().out
    assert '| scratch, validation split | 1 | 100.0' in out
    mae = next(line for line in out.splitlines()
               if line.startswith('| MAE (MAERec), validation split | 1 |'))
    assert '-66.7' in mae  # paired with scratch's validation row
    assert 're-initialised' not in out  # not run: not in the table
    assert '| scratch, validation split | 4.00 | 86 | 1.00 |' in out  # leaves the plateau
    assert '| MAE (MAERec), validation split | 4.00 | 46 | 1.00 |' in out
    tool.main([str(tmp_path), '--profile', 'regime', '--pair', 'scratch:val', 'mae:val'])
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith(
        '| scratch, validation split | MAE (MAERec), validation split | +66.7')
    with pytest.raises(SystemExit, match=r"--pair: validation rows \['mae:val_long3'\] are not"):
        tool.main([str(tmp_path), '--profile', 'regime', '--pair', 'mae:val_long3', 'scratch:val'])


def test_nsp_variants_plan_reads_every_variant_on_the_validation_split_only(tmp_path):
    """Issue #24's comparison: MIM-only, full MNSP and every NSP variant pretrained at the
    demo budget from the same MAE teacher, each read by the reading probe and fine-tuned on
    the validation split; no variant is fine-tuned on a test set. The attention claim's
    16x rows are label-free; the robustness rows read the test sets once."""
    from mnsp_mm.demo.profiles import ATTENTION_16X, NSP_VARIANTS
    P = PROFILES['nsp_variants']
    assert P.pretrain_iters == PROFILES['default'].pretrain_iters and P.reading_probe
    assert len(NSP_VARIANTS) >= 4
    study = _study('nsp_variants', tmp_path)
    compared = ('mnsp', 'mnsp_mim_only') + NSP_VARIANTS
    # the teachers first (the longest first), then MNSP, then in the profile's order
    assert [r.method for r in study.pretrain_runs] == [
        'mae_16x', 'mae', 'mnsp', 'mnsp_mim_only', 'mnsp_nsp_only', 'mnsp_nsp_mim',
        *NSP_VARIANTS, *ATTENTION_16X, 'lmim_t16', 'mnsp_t16']
    for m in ATTENTION_16X:  # label-free rows: 16x the images, the same MAE 1x teacher
        method = METHODS[m]
        assert method.budget == 16 and method.teacher_method == 'mae'
        assert method.config == METHODS[m[:-len('_16x')]].config
        assert not [r for r in study.finetune_runs if r.init == m]
    for m in NSP_VARIANTS:
        method = METHODS[m]
        assert method.group == 'nsp_variant' and method.reference == 'mnsp' and method.teacher
        assert (ROOT / method.config).is_file()
        assert PretrainRun(m).teacher_stage == 'pretrain_mae'
        assert f'finetune_{m}_val' in [r.stage for r in study.finetune_runs if r.init == m]
    val = [r for r in study.finetune_runs if r.recipe_spec.split == 'val']
    # off the plateau: 3x the steps, the stream scaled back by MAE 1x's factor
    off = {f'{m}:val_long3_writes0.125' for m in ('mae', 'mnsp', 'mnsp_mim_only',
                                                  'mnsp_nsp_residual')}
    assert {r.row for r in val} == {'scratch:val', 'scratch:val_long3'} | {
        f'{m}:val' for m in compared} | off
    assert all(study.eval_sets(r) == ['val_regular', 'val_default'] for r in val)
    # the robustness claim: the test sets, once, in the treatment the validation split chose
    robust = {'finetune_scratch_long3': None, 'finetune_mae_16x_long3_writes0.25': 'mae_16x',
              'finetune_lmim_t16_long3_writes0.25': 'lmim_t16',
              'finetune_mnsp_t16_long3_writes0.25': 'mnsp_t16'}
    runs = {r.stage: r for r in study.finetune_runs if r.stage in robust}
    assert set(runs) == set(robust)
    for stage, r in runs.items():
        assert r.recipe_spec.split == 'test' and r.recipe_spec.steps == 3
        assert study.eval_sets(r) == list(TEST_SETS)
        assert r.recipe_spec.reinit == (('writes*0.25', ) if robust[stage] else ())
        assert (r.pretrain.stage if r.pretrain else None) == (
            robust[stage] and f'pretrain_{robust[stage]}')
    probes = study.probe_stage_names()
    assert set(probes) == {'probe_random'} | {f'probe_{r.stage}' for r in study.pretrain_runs}
    # the comparison's --only patterns select exactly these stages (and what they need)
    deps = {r.stage: ('render', ) + ((r.teacher_stage, ) if r.teacher_stage else ())
            for r in study.pretrain_runs}
    deps.update({n: ('render', 'validation') for n in probes})
    deps.update({r.stage: ('render', ) + ((r.pretrain.stage, ) if r.pretrain else ())
                 for r in study.finetune_runs})
    study.args.only = ['pretrain_*', 'probe_*', 'finetune_*_val']
    assert study.selected(deps) == set(deps) - {r.stage for r in study.finetune_runs
                                                if not r.stage.endswith('_val')} | {
        'render', 'validation'}
    study.args.only = ['finetune_scratch_long3', 'finetune_*_long3_writes0.25']
    assert {s for s in study.selected(deps) if s.startswith('finetune_')} == set(robust)


def test_nsp_variant_validation_rows_are_paired_with_mnsp(tmp_path):
    """The validation table pairs each NSP variant with MNSP's validation row (the same
    crops: a variant reading like MNSP shows no difference), MNSP with scratch's."""
    from mnsp_mm.demo import regime_report as W
    study = _study('nsp_variants', tmp_path)
    table = W.validation_lines(study, _fake_validation_predictions(study, tmp_path))
    variant = next(line for line in table if line.startswith(
        f'| {row_label("mnsp_nsp_residual:val")} |'))
    assert f'| {row_label("mnsp:val")} |' in variant and 'no measurable difference' in variant
    mnsp = next(line for line in table if line.startswith(f'| {row_label("mnsp:val")} |'))
    assert f'| {row_label("scratch:val")} |' in mnsp and '-66.7' in mnsp


def test_regime_tables_test_pairs_read_each_category_apart(tmp_path, capsys):
    """--test-pair: the done test rows' OOV reading per set, and each pair's paired
    difference per set (the robustness claim's table); a set where the two rows read the
    same crops alike shows no measurable difference, one where they differ shows it."""
    tool = _tool('analysis/regime_tables.py')
    finetune = tmp_path / 'render' / 'finetune'
    finetune.mkdir(parents=True)
    (finetune / 'textrecog_train.json').write_text(json.dumps(dict(data_list=[
        dict(img_path='a.png', instances=[dict(text='seen')])])))
    (tmp_path / 'render' / 'done.json').write_text(json.dumps(dict(finetune=str(finetune))))
    mnsp_better = 'low_res'
    for stage, row in (('finetune_scratch_long3', 'scratch'),
                       ('finetune_mnsp_t16_long3_writes0.25', 'mnsp')):
        folder = tmp_path / stage / 'predictions'
        folder.mkdir(parents=True)
        for s in TEST_SETS:
            with open(folder / f'{s}.jsonl', 'w') as f:
                for i in range(40):
                    good = i % 2 == 0 or (row == 'mnsp' and s == mnsp_better)
                    f.write(json.dumps(dict(gt=f'w{i}', pred=f'w{i}' if good else 'x')) + '\n')
        (tmp_path / stage / 'done.json').write_text(json.dumps(dict(predictions=str(folder))))
    with pytest.raises(SystemExit, match=r"test rows \['mae_16x:long3_writes0.25'\] are not"):
        tool.main([str(tmp_path), '--profile', 'nsp_variants', '--test-pair',
                   'mae_16x:long3_writes0.25', 'scratch:long3'])
    tool.main([str(tmp_path), '--profile', 'nsp_variants', '--test-pair',
               'mnsp_t16:long3_writes0.25', 'scratch:long3'])
    out = capsys.readouterr().out.rstrip().splitlines()
    assert out[-2].startswith('|---|---|') and out[-3].split(' | ')[2:-1] == list(TEST_SETS)
    cells = out[-1].split(' | ')[2:]
    for s, cell in zip(TEST_SETS, cells):
        assert ('(no measurable difference)' in cell) == (s != mnsp_better), (s, cell)
    assert cells[list(TEST_SETS).index(mnsp_better)].startswith('+50.0')
    assert cells[-1].startswith('+6.2 [')  # the mean of the sets: 50 / 8 points
    row = next(line for line in out if line.startswith('| scratch, fine-tuned with 3x'))
    assert '50.0 [' in row  # every set of scratch reads half its crops


def test_regime_confirm_reads_the_validation_choice_on_the_test_sets_with_3_seeds(tmp_path):
    """Issue #22's criterion (a): the validation split's best row off the plateau and
    scratch, both at 3x the steps, 3 fine-tuning seeds each, on every test set; scratch's
    seed 0 is the robustness rows' stage (one run, shared)."""
    study = _study('regime_confirm', tmp_path)
    rows = _recipe_rows(study)
    assert set(rows) == {'scratch:long3', 'mnsp_mim_only:long3_writes0.125'}
    for row, runs in rows.items():
        assert [r.stage for r in runs] == [runs[0].stage + s for s in ('', '_ft1', '_ft2')]
        for r in runs:
            assert r.recipe_spec.split == 'test' and r.recipe_spec.steps == 3
            assert study.eval_sets(r) == list(TEST_SETS)
    mim = rows['mnsp_mim_only:long3_writes0.125']
    assert {r.recipe_spec.reinit for r in mim} == {('writes*0.125', )}
    assert {r.pretrain.stage for r in mim} == {'pretrain_mnsp_mim_only'}
    shared = _study('nsp_variants', tmp_path / 'nsp')
    assert rows['scratch:long3'][0].stage in {r.stage for r in shared.finetune_runs}
    assert study.params(stage='finetune_scratch_long3') == shared.params(
        stage='finetune_scratch_long3')


def test_levers_profile_reads_each_speed_switch_on_the_validation_split(tmp_path):
    """Issue #23: MAE pretrained and scratch / MAE fine-tuned with each speed lever, 2 seeds,
    on the validation split only, beside the same rows in fp32 eager; the fp32 rows are the
    regime profile's stages (a work dir shares them), the lever rows carry their switches."""
    from mnsp_mm.demo.plan import BF16, CHANNELS_LAST
    study = _study('levers', tmp_path)
    assert [r.method for r in study.pretrain_runs] == ['mae', 'mae_cl', 'mae_cl_bf16']
    assert dict(METHODS['mae_cl'].options) == dict(CHANNELS_LAST)
    assert dict(METHODS['mae_cl_bf16'].options) == dict(CHANNELS_LAST + BF16)
    rows = _recipe_rows(study)
    assert set(rows) == {'scratch:val', 'scratch:val_cl', 'scratch:val_cl_bf16', 'mae:val',
                         'mae_cl:val_cl', 'mae_cl_bf16:val_cl_bf16'}
    for runs in rows.values():
        assert [r.seed for r in runs] == [0, 1]
        assert all(r.recipe_spec.split == 'val' for r in runs)
    assert dict(rows['scratch:val_cl_bf16'][0].recipe_spec.options) == {
        'model.backbone.stem_channels_last': True, 'optim_wrapper.type': 'BF16OptimWrapper'}
    regime = _study('regime', tmp_path / 'regime')
    for stage in ('pretrain_mae', 'finetune_scratch_val', 'finetune_mae_val'):
        config = next(r.config if hasattr(r, 'config') else METHODS[r.method].config
                      for r in study.pretrain_runs + study.finetune_runs if r.stage == stage)
        assert study.params(config, stage) == regime.params(config, stage), stage
    # the switches reach the dumped configs
    cfg_path = study._dump(METHODS['mae_cl_bf16'].config, 'pretrain_mae_cl_bf16',
                           study.pretrain_options(study.pretrain_runs[2]), tmp_path)
    from mnsp_mm.apis import load_config
    cfg = load_config(str(cfg_path))
    assert cfg.model.backbone.stem_channels_last and cfg.optim_wrapper.type == 'BF16OptimWrapper'


def test_regime_lr_gives_the_mae_papers_lr_rule_and_scratch_3_seeds_on_validation(tmp_path):
    """MAE at 1.5e-4 x batch / 256 (the demo's batch 64: 3.75e-5) and scratch, 3 fine-tuning
    seeds each on the validation split; seed 0 of each is the regime profile's stage."""
    assert dict(METHODS['mae_lr3.75e-5'].options) == {
        'optim_wrapper.optimizer.lr': 1.5e-4 * PROFILES['regime_lr'].pretrain_batch / 256}
    study = _study('regime_lr', tmp_path)
    rows = _recipe_rows(study)
    assert set(rows) == {'scratch:val', 'mae_lr3.75e-5:val'}
    for runs in rows.values():
        assert [r.seed for r in runs] == [0, 1, 2]
        assert all(r.recipe_spec.split == 'val' for r in runs)
    regime = _study('regime', tmp_path / 'regime')
    for stage in ('finetune_scratch_val', 'finetune_mae_lr3.75e-5_val'):
        run = next(r for r in study.finetune_runs if r.stage == stage)
        assert study.params(run.config, stage) == regime.params(run.config, stage)


def test_study_profile_searches_the_same_lr_for_every_method_and_reads_budget_and_labels(
        tmp_path):
    """`make study`: each method at the same two pretraining lr, the budget curve at the
    searched lr with the 16x MAE as teacher of LMIM and MNSP at two budgets, the label curve
    for scratch and the longest-pretrained encoder of each method, 3 seeds where it says,
    every encoder probed, and nothing but the main rows on the test sets."""
    study = _study('study', tmp_path)
    lr = {m: dict(METHODS[m].options).get('optim_wrapper.optimizer.lr')
          for m in study.profile.methods}
    for m in ('mae', 'lmim', 'mnsp'):  # the same two trials for each
        assert lr[m] is None and lr[f'{m}_lr1.5e-4'] == 1.5e-4
        assert METHODS[m].config == METHODS[f'{m}_lr1.5e-4'].config
    budgets = {m: METHODS[m].budget for m in study.profile.methods if lr[m] == 1.5e-4}
    assert sorted(v for m, v in budgets.items() if m.startswith('mae')) == [1, 4, 16]
    for m in ('lmim', 'mnsp'):  # two points of the curve, taught by the longest MAE
        taught = [k for k in budgets if k.startswith(m) and k.endswith('_t16')]
        assert sorted(budgets[k] for k in taught) == [1, 4]
        assert {PretrainRun(k).teacher_stage for k in taught} == {'pretrain_mae_lr1.5e-4_16x'}
    assert study.pretrain_runs[0].method == 'mae_lr1.5e-4_16x'  # the longest starts first
    rows = _recipe_rows(study)
    assert all(r.recipe_spec.split == 'val' for runs in rows.values() for r in runs)
    assert {r.row for r in study.finetune_runs if not r.recipe} == {
        'scratch', 'mae', 'lmim', 'mnsp'}  # the test sets: the demo's rows only
    best = ('mae_lr1.5e-4_16x', 'lmim_lr1.5e-4_4x_t16', 'mnsp_lr1.5e-4_4x_t16')
    for init, seeds in zip(('scratch', ) + best, (3, 3, 2, 2)):
        assert [r.seed for r in rows[f'{init}:val']] == list(range(seeds))
        assert f'{init}:val_labels1k' in rows and f'{init}:val_labels3k' not in rows
    # attention is drawn on the recognisers read on the test sets only
    assert {r.row for r in study.attention_finetunes()} == {'scratch', 'mae', 'lmim', 'mnsp'}
    assert all(len(rows[f'{m}:val']) == 1 for m in study.profile.methods if m not in best)
    assert len(study.probe_stage_names()) == 1 + len(study.pretrain_runs)


def test_bad_row_seeds_name_the_profile_field():
    with pytest.raises(ValueError, match='Profile.recipes'):
        build_plan(('mae', ), 1, 1, (('mae', 'val', 0), ))
    with pytest.raises(ValueError, match='Profile.recipes'):
        build_plan(('mae', ), 1, 1, (('mae', ), ))
    _, runs = build_plan(('mae', ), 1, 1, (('mae', 'val', 2), ('scratch', 'val')), 3)
    assert [r.stage for r in runs if r.recipe] == [
        'finetune_mae_val', 'finetune_mae_val_ft1', 'finetune_scratch_val',
        'finetune_scratch_val_ft1', 'finetune_scratch_val_ft2']


def test_study_report_lists_every_encoder_the_label_curve_and_the_crossing(tmp_path):
    """The study's own tables, read back from fabricated records: each encoder's lr, images
    seen, probes and validation reading paired with scratch; the label curve; and the line
    through MAE's budget points, marked as an extrapolation."""
    import json

    from mnsp_mm.demo import regime_report as W
    study = _study('study', tmp_path)
    for run in study.pretrain_runs:
        study.records[run.stage].update(images_seen=16000 * METHODS[run.method].budget)
    probe = tmp_path / 'probe.json'
    probe.write_text(json.dumps({k: dict(value=.1, low=.05, high=.15) for k in (
        'linear', 'block')}))
    study.records['probe_random'] = dict(encoder='random', results=str(probe))
    rows = _fake_validation_predictions(study, tmp_path)
    lines = W.encoder_lines(study, rows)
    assert len(lines) == 2 + 1 + len(study.pretrain_runs)
    assert lines[2].startswith('| random weights (scratch) | - | 0 | 10.0 [5.0, 15.0]')
    assert lines[2].split('|')[7].strip() == '3'  # scratch's seeds
    mae16 = next(x for x in lines if x.startswith('| MAE, lr 1.5e-4, 16x'))
    assert '| 1.5e-4 | 256,000 |' in mae16 and '| 3 | -66.7' in mae16
    assert '(16,000)' in next(x for x in lines if x.startswith('| LMIM, lr 1.5e-4 |'))
    assert '(256,000)' in next(x for x in lines if '4x the images seen, teacher' in x)
    labels = W.val_label_lines(study, rows)
    assert [x.split('|')[1].strip() for x in labels[2:]] == ['1,000'] * 4 + [
        '30,000'] * 4  # scratch and the three longest-pretrained encoders, each count
    # with few labels scratch reads the crops the others read (every third); with all
    # labels its plain row reads every crop
    assert all(x.endswith('(no measurable difference) |') for x in labels[3:6])
    assert all('| -66.7 [' in x for x in labels[-3:])
    cross = W.crossing_lines(study, rows)
    assert len(cross) == 4 and 'an extrapolation' in cross[-1]  # MAE at 1x, 4x, 16x
    assert 'never' in cross[-1]  # every point -66.7: the line does not rise


def test_probe_table_pairs_the_heldout_loss_with_random_weights(tmp_path):
    """The probe table: WAICS with its interval, and the held-out CTC loss paired against
    random weights' on the crops both could score (a None loss: the label cannot fit)."""
    from mnsp_mm.demo import regime_report as W
    study = _study('study', tmp_path)
    for run in study.pretrain_runs:
        study.records[run.stage].update(images_seen=16000 * METHODS[run.method].budget)

    def probe(name, loss):
        sets = {'val_regular': dict(correct=[0, 1, 0, 0], loss=[loss, loss, None, loss]),
                'val_default': dict(correct=[0, 0, 0, 0], loss=[loss] * 4)}
        kind = dict(value=.125, low=0., high=.375, sets=sets,
                    heldout_loss=dict(value=loss, low=loss, high=loss))
        path = tmp_path / f'{name}.json'
        path.write_text(json.dumps(dict(linear=kind, block=kind)))
        return dict(encoder=name, results=str(path))

    study.records['probe_random'] = probe('random', 3.0)
    stage = study.pretrain_runs[0].stage
    study.records[f'probe_{stage}'] = probe(stage, 3.5)
    lines = W.probe_lines(study)
    assert len(lines) == 4 and lines[2].startswith('| random weights')
    cells = [c.strip() for c in lines[3].split('|')[1:-1]]
    assert cells[1] == '256,000' and cells[2] == '12.5 [0.0, 37.5]'
    assert cells[3] == '3.500 [3.500, 3.500]' and cells[4].startswith('+0.500 [+0.500, +0.500]')
    assert cells[7].startswith('+0.500') and 'no measurable' not in cells[7]
    assert W._probe_cell(json.loads(Path(study.records['probe_random']['results'])
                                    .read_text()), 'linear') == '12.5 [0.0, 37.5]; 3.000'


def test_regime_labels_confirms_the_few_label_row_with_3_seeds_on_both_splits(tmp_path):
    """MAE lr 1.5e-4 16x and scratch on 1,000 labels, 3 fine-tuning seeds each, on the test
    sets and on the validation split; the validation seed-0 stages are the study's own."""
    study = _study('regime_labels', tmp_path)
    rows = _recipe_rows(study)
    assert set(rows) == {f'{i}:{r}' for i in ('scratch', 'mae_lr1.5e-4_16x')
                         for r in ('labels1k', 'val_labels1k')}
    for row, runs in rows.items():
        assert [r.seed for r in runs] == [0, 1, 2]
        assert {r.recipe_spec.labels for r in runs} == {1000}
        assert {r.recipe_spec.split for r in runs} == {'val' if ':val' in row else 'test'}
    made = _study('study', tmp_path / 'study')
    for stage in ('finetune_scratch_val_labels1k', 'finetune_mae_lr1.5e-4_16x_val_labels1k',
                  'pretrain_mae_lr1.5e-4_16x'):
        run = next(r for r in study.finetune_runs + study.pretrain_runs if r.stage == stage)
        config = getattr(run, 'config', None) or METHODS[run.method].config
        assert study.params(config, stage) == made.params(config, stage)


def test_budget_table_charges_each_student_its_own_teacher(tmp_path):
    """LMIM / MNSP taught by the 16x MAE carry the 16x run's cost, the others their own
    teacher's (the demo's MAE), and labels show lr as written in the method keys."""
    from mnsp_mm.demo.report import _budget_table
    study = _study('study', tmp_path)
    for run in study.pretrain_runs:
        k = METHODS[run.method].budget
        study.records[run.stage].update(seconds=60. * k, images_seen=16000 * k,
                                        gflop_per_image=.26, train_gflop=4100. * k,
                                        teacher_gmac_per_image=.06)
    lines = {line.split('|')[1].strip(): line for line in _budget_table(study)[2:]
             if line.startswith('| ')}
    assert lines['LMIM, lr 1.5e-4, 4x the images seen, teacher MAE lr 1.5e-4 16x'].endswith(
        '| + 16.0 min, + 65.6 TFLOP (teacher forward 0.120 GFLOP / image inside) |')
    assert '| + 1.0 min, + 4.1 TFLOP' in lines['MNSP, lr 1.5e-4']
    assert lines['MAE, lr 1.5e-4'].endswith('| - |')


def test_first_below_finds_the_plateau_exit():
    from mnsp_mm.engine.progress import first_below
    recs = [dict(iter=i, loss=3.8 if i < 100 else 1.0) for i in range(1, 201)]
    assert first_below(recs, 3.0) == 105  # 14 x 3.8 + 6 x 1.0 over 20: 2.96
    assert first_below(recs, 0.5) is None
    assert first_below(recs[:5], 3.0) is None and first_below([], 3.0) is None


def test_cause_table_ranks_every_encoder_by_its_stream(tmp_path):
    """The stream hypothesis put to every encoder (fabricated records with a known answer):
    the larger an encoder's stream, the later its recogniser leaves the plateau and the less
    it reads, so both rank correlations are -1 / +1; the probe loss the other way round."""
    import json

    from mnsp_mm.demo import regime_report as W
    from mnsp_mm.demo.profiles import VAL_SETS
    study = _study('study', tmp_path)
    encoders = ['random'] + [r.stage for r in study.pretrain_runs]
    rank = {name: k for k, name in enumerate(encoders)}  # k: larger stream, reads less
    rows = {}
    for run in study.finetune_runs:
        if run.recipe != 'val':
            continue
        k = rank['random' if run.pretrain is None else run.pretrain.stage]
        folder = tmp_path / run.stage
        folder.mkdir()
        for s in VAL_SETS:
            with open(folder / f'val_{s}.jsonl', 'w') as f:
                for i in range(30):
                    f.write(json.dumps(dict(gt=f'w{i}', pred=f'w{i}' if i >= k else 'x')) + '\n')
        with open(folder / 'losses.jsonl', 'w') as f:
            for i in range(1, 801):
                f.write(json.dumps(dict(iter=i, loss=3.8 if i < 100 + 20 * k else 1.0)) + '\n')
        study.records[run.stage] = dict(predictions=str(folder),
                                        checkpoint=str(folder / 'iter_800.pth'))
        rows.setdefault(run.row, []).append(run)
    for name, k in rank.items():
        path = tmp_path / f'probe_{name}.json'
        held = dict(value=3.4 + .01 * k, low=3.4, high=3.5)
        path.write_text(json.dumps(dict(linear=dict(heldout_loss=held),
                                        scales=dict(stream_rms=[1., 1.7 + k, 1.]))))
        study.records[f'probe_{name}'] = dict(encoder=name, results=str(path))
    lines = W.cause_lines(study, rows)
    assert len(lines) == 2 + len(encoders) + 1 + 3
    first = [c.strip() for c in lines[2].split('|')[1:-1]]
    assert first == ['random weights (scratch)', '1.70', '105', '3.400', '100.0']
    corr = {line.split(':')[0]: line for line in lines if line.startswith('- ')}
    assert 'Spearman -1.00 [-1.00, -1.00]' in corr['- fine-tuned reading vs stream RMS']
    assert 'Spearman +1.00 [+1.00, +1.00]' in corr['- plateau exit vs stream RMS']
    assert 'Spearman -1.00' in corr['- fine-tuned reading vs probe held-out loss']
    assert corr['- plateau exit vs stream RMS'].endswith(f'over {len(encoders)} encoders')


def test_crossing_of_a_line_in_log_budget():
    from mnsp_mm.demo.regime_report import crossing
    fit = crossing([16000, 64000, 256000], [-30.0, -20.0, -10.0])  # +5 per doubling
    assert fit['slope'] == pytest.approx(5.0)
    assert fit['images'] == pytest.approx(1024000)  # two more quadruplings
    assert crossing([1, 2], [-1.0, -2.0])['images'] == float('inf')
    with pytest.raises(ValueError, match='two or more distinct budgets'):
        crossing([16000, 16000], [-1.0, -2.0])
