"""`make demo` end to end: the --quick profile of tools/demo.py, as a user runs it."""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnsp_mm.engine.progress import read_losses, smooth

ROOT = Path(__file__).resolve().parents[1]
SETS = ('regular', 'curved', 'rotated', 'perspective', 'low_res', 'long_words', 'unusual_fonts',
        'held_out_fonts')
STAGES = ('render', 'pretrain_mae', 'pretrain_lmim', 'pretrain_mnsp', 'pretrain_lmim_pixel',
          'finetune_scratch', 'finetune_mae', 'finetune_lmim', 'finetune_mnsp',
          'finetune_lmim_pixel', 'reference', 'diagnostics', 'attention')
PRETRAINED = [s for s in STAGES if s.startswith('pretrain_')]
FINETUNED = [s for s in STAGES if s.startswith('finetune_')]


def demo(work, *extra):
    res = subprocess.run([sys.executable, 'tools/demo.py', '--quick', '--no-progress',
                          '--work-dir', str(work), *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    work = tmp_path_factory.mktemp('demo')
    return work, demo(work, '--jobs', '2')  # training stages side by side, in worker processes


def test_quick_demo_runs_every_stage_and_writes_the_report(quick_run):
    work, out = quick_run
    for stage in STAGES:
        assert f'[{stage}] ' in out and (work / stage / 'done.json').is_file(), stage
    group = json.loads((work / 'finetune_mae' / 'done.json').read_text())
    assert group['group'][-1] == 'reference' and group['group_elapsed'] >= group['seconds']
    report = (work / 'report.md').read_text()
    assert '| finetune_mae * |' in report and '| pretrain_mae * |' in report
    assert '| render |' in report
    reading = report.split('## Reading')[1].split('## Budget')[0]
    header = next(line for line in reading.splitlines() if line.startswith('| method'))
    assert all(s in header for s in SETS) and 'avg [95% CI]' in header
    for row in ('scratch', 'MAE (MAERec)', 'LMIM', 'MNSP', 'LMIM, pixel target (no teacher)',
                'random training label'):
        assert f'| {row} |' in reading
    assert ('| Tesseract |' in reading) == bool(shutil.which('tesseract'))
    assert 'MAE (MAERec) - scratch:' in reading and 'measurable difference' in reading
    assert 'In-vocabulary crops' in reading and 'minus MAE [95% CI]' in reading
    budget = report.split('## Budget')[1].split('## ')[0]
    assert budget.count('| 256 |') == 4  # images seen, one row per method
    ablations = report.split('## Teacher-free rows and ablations')[1].split('## ')[0]
    assert '| LMIM, pixel target (no teacher) | LMIM |' in ablations
    diagnostics = report.split('## Label-free diagnostics')[1].split('## ')[0]
    assert '| random weights (no pretraining) |' in diagnostics
    assert all(f'| {m} (seed 0) |' in diagnostics for m in ('MAE (MAERec)', 'LMIM', 'MNSP'))
    assert 'loss_mla' in diagnostics and 'loss_align' in diagnostics
    table = report.split('## All crops, MMOCR metrics')[1].split('![')[0]
    header = next(line for line in table.splitlines() if line.startswith('| run'))
    assert all(s in header for s in SETS) and 'avg' in header and 'weighted avg' in header
    for row in ('scratch', 'MAE (MAERec)', 'LMIM', 'MNSP'):
        assert f'| {row} |' in table
    published = report.split('published (from the papers, not run here)')[1]
    assert 'MAERec-S' in published and 'MAERec-S' not in table
    for png in ('results.png', 'pretrain_losses.png', 'forest.png'):
        assert (work / png).stat().st_size > 1000
    assert 'Where the fine-tuned encoders look' in report
    assert 'attention_finetune_mnsp.png' in report
    assert (work / 'attention' / 'attention_pretrain_lmim.png').is_file()
    assert 'python tools/train.py' in report and 'python tools/test.py' in report
    render = json.loads((work / 'render' / 'done.json').read_text())
    assert len(render['commands']) == 2 + len(SETS)  # pool, train, one per test set
    assert all(f'--name {s} ' in ''.join(render['commands']) for s in SETS)


def _labels_and_fonts(data, name):
    entries = json.loads((data / f'textrecog_{name}.json').read_text())['data_list']
    return [e['instances'][0]['text'] for e in entries], {e['font'] for e in entries}


def test_test_sets_need_reading_words_and_fonts_never_trained_on(quick_run):
    """On the rendered annotations: a test label that is a training label is a word of the
    training vocabulary (the in-vocabulary share); no held-out word is a training label; the
    held-out fonts draw no training crop and every crop of held_out_fonts."""
    from mnsp_mm import synth
    work, _ = quick_run
    data = work / 'data' / 'finetune'
    train, train_fonts = _labels_and_fonts(data, 'train')
    heldout_vocab, train_vocab = set(synth.vocabulary('test')), set(synth.vocabulary('train'))
    heldout_fonts = set(synth.font_names('heldout'))
    assert not set(train) & heldout_vocab and not train_fonts & heldout_fonts
    assert all(t == t.lower() for t in train)
    for name in SETS:
        labels, fonts = _labels_and_fonts(data, name)
        seen = set(labels) & set(train)
        assert seen <= train_vocab, (name, seen - train_vocab)
        assert any(t in heldout_vocab for t in labels) or name == 'long_words'
        if name == 'held_out_fonts':
            assert fonts <= heldout_fonts
        else:
            assert not fonts & heldout_fonts
    split = json.loads((work / 'data' / 'fonts.json').read_text())
    assert set(split['heldout']) == {synth.font_catalogue()[n].family for n in heldout_fonts}
    for init in ('scratch', 'mnsp'):
        rows = (work / f'finetune_{init}' / 'predictions' / 'held_out_fonts.jsonl')
        assert len(rows.read_text().splitlines()) == 32


def test_each_model_is_tested_on_every_set_with_mmocr_metrics(quick_run):
    work, _ = quick_run
    for init in ('scratch', 'mae', 'lmim', 'mnsp'):
        run = json.loads((work / f'finetune_{init}' / 'test_metrics.json').read_text())
        for s in SETS:
            for name in ('word_acc_ignore_case_symbol', 'char_recall', '1-N.E.D'):
                assert 0.0 <= run['metrics'][f'{s}/recog/{name}'] <= 1.0
        assert run['counts'] == {s: 32 for s in SETS}
    # fine-tuning from a pretrained encoder really loads it: the first losses differ
    first = {i: read_losses(work / f'finetune_{i}' / 'losses.jsonl')[0]['loss']
             for i in ('scratch', 'mae')}
    assert first['scratch'] != first['mae']


def test_every_method_pretrains_from_random_weights_for_the_same_images_seen(quick_run):
    """The fair protocol: one budget in images seen, no student starts from another run's
    weights, and the teacher of LMIM / MNSP is the finished MAE run (the pixel row has none)."""
    work, _ = quick_run
    from mnsp_mm.apis import load_config
    mae = json.loads((work / 'pretrain_mae' / 'done.json').read_text())['checkpoint']
    seen = set()
    for stage in PRETRAINED:
        record = json.loads((work / stage / 'done.json').read_text())
        cfg = load_config(str(work / 'configs' / f'{stage}.py'))
        seen.add((record['images_seen'], cfg.train_cfg.max_iters * cfg.train_dataloader.batch_size))
        assert not cfg.model.backbone.get('pretrained') and not cfg.model.backbone.get('init_cfg')
        teacher = cfg.model.get('target_generator', {})  # MAE has none
        assert teacher.get('checkpoint') == (mae if stage in ('pretrain_lmim', 'pretrain_mnsp')
                                              else None), stage
        assert record['train_gflop'] == pytest.approx(record['gflop_per_image'] * 256)
    assert seen == {(256, 256)}


def test_every_row_fine_tunes_with_the_same_recipe(quick_run):
    """Only the initialisation differs between the rows (no layer decay for pretrained
    encoders alone, as the demo had until it was measured to cost them most of their score)."""
    work, _ = quick_run
    from mnsp_mm.apis import load_config

    def recipe(stage):
        cfg = load_config(str(work / 'configs' / f'{stage}.py')).to_dict()
        cfg['model']['backbone'].pop('pretrained', None)
        return {k: cfg[k] for k in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                                     'randomness', 'train_dataloader')}
    first = recipe(FINETUNED[0])
    assert 'constructor' not in first['optim_wrapper']
    assert all(recipe(stage) == first for stage in FINETUNED[1:])


def test_diagnostics_probe_every_encoder_and_a_random_one(quick_run):
    work, _ = quick_run
    record = json.loads((work / 'diagnostics' / 'done.json').read_text())
    results = json.loads(Path(record['results']).read_text())
    assert list(results) == ['random', *PRETRAINED]
    for res in results.values():
        for key in ('first_char', 'length'):
            assert res[key]['low'] <= res[key]['value'] <= res[key]['high']
        assert res['collapse']['cls_std'] >= 0


def test_stage_commands_reproduce_the_config(quick_run):
    """The dumped config the report's command names is the one the stage trained with."""
    work, _ = quick_run
    from mnsp_mm.apis import load_config
    cfg = load_config(str(work / 'configs' / 'pretrain_lmim.py'))
    mae = json.loads((work / 'pretrain_mae' / 'done.json').read_text())
    assert cfg.model.target_generator.checkpoint == mae['checkpoint']
    assert cfg.train_cfg.max_iters == 8 and cfg.randomness.seed == 0


def test_written_configs_and_report_commands_never_write_over_a_stage(quick_run):
    """Each dumped config has its own work dir (beside its stage's results), and the report's
    test command writes its metrics and predictions beside the stage's, not over them."""
    work, _ = quick_run
    from mnsp_mm.apis import load_config
    configs = sorted((work / 'configs').glob('*.py'))
    dirs = [load_config(str(c)).work_dir for c in configs]
    assert len(set(dirs)) == len(configs) == len(PRETRAINED) + len(FINETUNED)
    assert all(d == str(work / c.stem / 'rerun') for c, d in zip(configs, dirs))
    stage = work / 'finetune_scratch'
    before = {p: p.read_bytes() for p in [stage / 'test_metrics.json',
                                          *sorted((stage / 'predictions').glob('*.jsonl'))]}
    command = json.loads((stage / 'done.json').read_text())['commands'][1]
    assert command.startswith('python tools/test.py ') and str(stage / 'retest') in command
    subprocess.run([sys.executable, *command.split()[1:]], cwd=ROOT, check=True,
                   capture_output=True, timeout=600)
    assert all(p.read_bytes() == b for p, b in before.items())
    assert (stage / 'retest' / 'test_metrics.json').is_file()
    from mnsp_mm.evaluation import read_predictions
    rows = [[(r['gt'], r['pred']) for r in read_predictions(d / 'regular.jsonl')]
            for d in (stage / 'retest' / 'preds', stage / 'predictions')]
    assert rows[0] == rows[1]


def test_render_command_reproduces_a_test_set(quick_run, tmp_path):
    work, _ = quick_run
    commands = json.loads((work / 'render' / 'done.json').read_text())['commands']
    cmd = next(c for c in commands if '--name long_words ' in c).split()
    out = cmd.index('--out') + 1
    original, cmd[out] = Path(cmd[out]), str(tmp_path)
    subprocess.run([sys.executable, *cmd[1:]], cwd=ROOT, check=True, capture_output=True)
    ann = 'textrecog_long_words.json'
    assert (tmp_path / ann).read_text() == (original / ann).read_text()
    first = 'imgs/long_words/000000.png'
    assert (tmp_path / first).read_bytes() == (original / first).read_bytes()


def test_rerun_skips_done_stages_resumes_an_unfinished_one_and_redoes_forced_ones(quick_run):
    """One rerun: a stage killed after its last checkpoint (done.json missing) resumes without
    retraining; a forced stage is redone with the stages that use its output; the rest skip."""
    work, _ = quick_run
    stage = work / 'finetune_lmim'
    (stage / 'done.json').unlink()
    lines = len(read_losses(stage / 'losses.jsonl'))
    out = demo(work, '--force', 'pretrain_mnsp', '--jobs', '1')  # the in-process path
    redone = [s for s in STAGES if f'[{s}] done earlier' not in out]
    assert redone == ['pretrain_mnsp', 'finetune_lmim', 'finetune_mnsp', 'diagnostics',
                      'attention'], out
    assert (stage / 'done.json').is_file()
    assert len(read_losses(stage / 'losses.jsonl')) == lines  # resumed, not retrained
    assert '[demo] done' in out


def test_unknown_forced_stage_is_named():
    res = subprocess.run([sys.executable, 'tools/demo.py', '--quick', '--force', 'pretrain'],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "unknown stage(s) ['pretrain']" in res.stderr


def test_loss_record_keeps_the_last_value_per_iteration(tmp_path):
    f = tmp_path / 'losses.jsonl'
    f.write_text('{"iter": 1, "loss": 3.0}\n{"iter": 2, "loss": 2.0}\n'
                 '{"iter": 2, "loss": 2.5}\n{"iter": 3, "lo')  # resumed at 2, killed at 3
    assert [(r['iter'], r['loss']) for r in read_losses(f)] == [(1, 3.0), (2, 2.5)]
    assert smooth([1.0, float('nan'), 3.0], 2) == [1.0, 1.0, 2.0]


def test_a_config_edit_makes_its_stage_stale(tmp_path):
    spec = importlib.util.spec_from_file_location('demo_tool', ROOT / 'tools' / 'demo.py')
    demo_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_tool)
    study = demo_tool.Study(demo_tool.parse_args(['--quick', '--work-dir', str(tmp_path)]))
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{ROOT}/configs/demo/mae_pretrain.py']\n")
    before = study.params(str(child))
    assert before == study.params(str(child)) and 'config' not in study.params()
    child.write_text(child.read_text() + 'optim_wrapper = dict(optimizer=dict(lr=1e-4))\n')
    assert study.params(str(child))['config'] != before['config']
