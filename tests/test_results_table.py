"""tools/analysis/results_table.py and mnsp_mm/evaluation (collect, results)."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / 'tools' / 'analysis' / 'results_table.py'
from mnsp_mm import evaluation as R  # noqa: E402

WAICS = 'word_acc_ignore_case_symbol'
SIX = {'IIIT5K': 0.95, 'IC13': 0.93, 'SVT': 0.90, 'IC15': 0.80, 'SVTP': 0.85, 'CUTE80': 0.88}
# plain mean 531 / 6; weighted by the default counts: 683954 / 7672 (computed by hand)
SIX_AVG, SIX_WAVG = 88.5, 683954 / 7672
U14M = {'artistic': 0.70, 'multi-oriented': 0.60, 'contextless': 0.80, 'curve': 0.75,
        'incomplete': 0.50, 'incomplete-ori': 0.55, 'multi-words': 0.72, 'salient': 0.78,
        'general': 0.65}
U14M_AVG = 500 / 7  # 70+60+80+75+72+78+65, incomplete / incomplete-ori not averaged


def mmocr_metrics(values, delta=0.0):
    """Metric dict exactly as MultiDatasetsEvaluator + WordMetric/CharMetric/1-N.E.D make it."""
    out = {}
    for ds, v in values.items():
        out[f'{ds}/recog/word_acc'] = round(v - 0.05 + delta, 4)
        out[f'{ds}/recog/word_acc_ignore_case'] = round(v - 0.02 + delta, 4)
        out[f'{ds}/recog/word_acc_ignore_case_symbol'] = round(v + delta, 4)
        out[f'{ds}/recog/char_recall'] = 0.97
        out[f'{ds}/recog/char_precision'] = 0.96
        out[f'{ds}/recog/1-N.E.D'] = 0.95
    return out


def write_test_metrics(path, values, **extra):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'config': 'configs/maerec/maerec_vit-s.py',
                                'checkpoint': 'work_dirs/x/best.pth',
                                'metrics': mmocr_metrics(values), **extra}, indent=2))
    return path


def write_scalars(work_dir, ts='20240101_120000'):
    """A training run: train lines mixed with two val lines (step 1 better than step 2)."""
    vis = work_dir / ts / 'vis_data'
    vis.mkdir(parents=True)
    train = {'lr': 0.0004, 'base_lr': 0.0004, 'data_time': 0.01, 'loss': 1.2, 'loss_ce': 1.2,
             'time': 0.3, 'epoch': 1, 'iter': 50, 'memory': 2048, 'step': 50}
    val1 = {**mmocr_metrics(SIX, delta=0.01), 'data_time': 0.01, 'time': 0.1, 'step': 1}
    val2 = {**mmocr_metrics(SIX), 'data_time': 0.01, 'time': 0.1, 'step': 2}
    lines = [train, dict(train, iter=100, step=100), val1, dict(train, epoch=2, step=150),
             val2, dict(train, epoch=3, step=200)]
    text = ''.join(json.dumps(x) + '\n' for x in lines)
    (vis / 'scalars.json').write_text(text + '{"lr": 0.0001, "ste')  # run killed mid-line
    (work_dir / ts / f'{ts}.json').write_text(text)
    return vis / 'scalars.json'


def write_test_log(work_dir, ts='20240102_090000'):
    """A test run: LoggerHook.after_test_epoch dumps one JSON object to <ts>/<ts>.json."""
    (work_dir / ts).mkdir(parents=True)
    path = work_dir / ts / f'{ts}.json'
    path.write_text(json.dumps({**mmocr_metrics(U14M), 'data_time': 0.02, 'time': 0.2}))
    return path


def run_of(values, name='r', counts=None):
    return {'name': name, 'source': f'{name}.json', 'metrics': mmocr_metrics(values),
            'counts': counts or {}}


# ---------------------------------------------------------------- parsing


def test_key_format_matches_mmocr():
    """Keys are '{dataset_prefix}/{metric.prefix}/{name}' (MultiDatasetsEvaluator, mmocr 1.0.1)."""
    assert R.split_metric_key('IIIT5K/recog/word_acc_ignore_case_symbol') == (
        'IIIT5K', WAICS)
    assert R.split_metric_key('multi-oriented/recog/1-N.E.D') == ('multi-oriented', '1-N.E.D')
    assert R.split_metric_key('recog/word_acc') == ('all', 'word_acc')
    assert R.canonical_dataset('CUTE') == 'CUTE80'
    assert R.canonical_dataset('IC15_2077') == 'IC15'
    assert R.canonical_dataset('IC15_1811') == 'IC15_1811'
    assert R.canonical_dataset('Union14M-Multi_Oriented') == 'multi-oriented'
    assert R.canonical_dataset('synth_test') == 'synth_test'


def test_load_test_metrics_json(tmp_path):
    path = write_test_metrics(tmp_path / 'maerec_ft' / 'test_metrics.json', SIX,
                              counts={'IIIT5K': 2999})
    run = R.load_run_metrics(path)
    assert run['name'] == 'maerec_ft'
    assert run['kind'] == 'metrics_json' and run['step'] is None
    assert run['config'] == 'configs/maerec/maerec_vit-s.py'
    assert run['metrics']['IC15/recog/word_acc_ignore_case_symbol'] == 0.80
    assert len(run['metrics']) == 36
    assert run['counts'] == {'IIIT5K': 2999}
    other = write_test_metrics(tmp_path / 'results' / 'ablation_nomla.json', SIX)
    assert R.load_run_metrics(other)['name'] == 'ablation_nomla'
    assert R.load_run_metrics(other, name='no MLA')['name'] == 'no MLA'


def test_load_scalars_json_skips_train_lines(tmp_path):
    path = write_scalars(tmp_path / 'mnsp_ft')
    run = R.load_run_metrics(path)
    assert run['name'] == 'mnsp_ft' and run['kind'] == 'log_json'
    assert run['step'] == 2  # the last line holding metrics, not the train lines after it
    assert set(run['metrics']) == set(mmocr_metrics(SIX))  # no lr / loss / time / step
    assert run['metrics']['IIIT5K/recog/word_acc_ignore_case_symbol'] == 0.95
    best = R.load_run_metrics(path, best=WAICS)
    assert best['step'] == 1
    assert best['metrics']['IIIT5K/recog/word_acc_ignore_case_symbol'] == 0.96
    full = R.load_run_metrics(path, best='IC15/recog/word_acc')
    assert full['step'] == 1
    # <ts>/<ts>.json of a training run holds the same lines
    same = R.load_run_metrics(path.parent.parent / '20240101_120000.json')
    assert same['metrics'] == run['metrics'] and same['name'] == 'mnsp_ft'


def test_load_test_run_log_single_object(tmp_path):
    path = write_test_log(tmp_path / 'u14m_eval')
    run = R.load_run_metrics(path)
    assert run['name'] == 'u14m_eval'
    assert run['metrics']['incomplete-ori/recog/word_acc_ignore_case_symbol'] == 0.55
    assert 'time' not in run['metrics'] and 'data_time' not in run['metrics']


def test_work_dir_takes_newest_metrics(tmp_path):
    wd = tmp_path / 'lmim_ft'
    scalars = write_scalars(wd)
    test_log = write_test_log(wd)
    empty = wd / '20240103_000000'
    (empty / 'vis_data').mkdir(parents=True)
    (empty / 'vis_data' / 'scalars.json').write_text(json.dumps({'lr': 1e-4, 'step': 1}))
    for i, p in enumerate([scalars, scalars.parent.parent / '20240101_120000.json',
                           test_log, empty / 'vis_data' / 'scalars.json']):
        os.utime(p, (1000 + i, 1000 + i))  # the newest file has no metrics: skipped
    run = R.load_run_metrics(wd)
    assert run['name'] == 'lmim_ft' and run['source'] == str(test_log)
    metrics = write_test_metrics(wd / 'test_metrics.json', SIX)
    os.utime(metrics, (2000, 2000))
    run = R.load_run_metrics(wd)
    assert run['source'] == str(metrics) and run['kind'] == 'metrics_json'
    ts_run = R.load_run_metrics(wd / '20240101_120000')  # a timestamp dir works too
    assert ts_run['name'] == 'lmim_ft' and ts_run['step'] == 2


# ---------------------------------------------------------------- table


def test_averages_by_hand():
    rows = R.build_table([run_of(SIX, 'a')], WAICS)
    assert list(rows[0]) == ['run', *R.SIX_BENCHMARKS, 'avg', 'weighted avg']
    assert rows[0]['IC15'] == pytest.approx(80.0)
    assert rows[0]['avg'] == pytest.approx(SIX_AVG)
    assert rows[0]['weighted avg'] == pytest.approx(SIX_WAVG)  # 89.1493...
    assert '| a | 95.00 | 93.00 | 90.00 | 80.00 | 85.00 | 88.00 | 88.50 | 89.15 |' in \
        R.to_markdown(rows)
    # counts from the run's json, then --counts, override the defaults
    run = run_of(SIX, 'b', counts={'IIIT5K': 1})
    w = (95 * 1 + 93 * 1015 + 90 * 647 + 80 * 2077 + 85 * 645 + 88 * 288) / (7672 - 2999)
    assert R.build_table([run])[0]['weighted avg'] == pytest.approx(w)
    both = R.build_table([run], counts={'IIIT5K': 3000})[0]['weighted avg']
    assert both == pytest.approx(SIX_WAVG)


def test_other_metric_is_matched_exactly():
    rows = R.build_table([run_of(SIX)], 'word_acc')
    assert rows[0]['IIIT5K'] == pytest.approx(90.0)  # not word_acc_ignore_case(_symbol)
    assert R.build_table([run_of(SIX)], '1-N.E.D')[0]['SVT'] == pytest.approx(95.0)
    one = R.build_table([run_of(SIX)], 'SVT/recog/word_acc')[0]
    assert list(one) == ['run', 'SVT', 'avg', 'weighted avg']


def test_column_order_and_u14m_avg():
    scrambled = dict(reversed(list({**U14M, 'synth_test': 0.5, **SIX}.items())))
    a = run_of(scrambled, 'a')
    b = run_of({'zzz_extra': 0.1, 'IIIT5K': 0.9}, 'b')
    rows = R.build_table([a, b], WAICS)
    assert list(rows[0]) == ['run', 'IIIT5K', 'IC13', 'SVT', 'IC15', 'SVTP', 'CUTE80',
                             'artistic', 'multi-oriented', 'contextless', 'curve',
                             'incomplete', 'incomplete-ori', 'multi-words', 'salient',
                             'general', 'synth_test', 'zzz_extra', 'avg', 'weighted avg',
                             'U14M avg']
    assert rows[0]['avg'] == pytest.approx(SIX_AVG)  # the six only, not synth_test
    assert rows[0]['U14M avg'] == pytest.approx(U14M_AVG)
    assert rows[1]['avg'] is None and rows[1]['U14M avg'] is None  # no partial means
    assert rows[1]['IC13'] is None and rows[1]['zzz_extra'] == pytest.approx(10.0)
    assert rows[0]['zzz_extra'] is None
    md = R.to_markdown(rows)
    assert md.splitlines()[3].startswith('| b | 90.00 | - | - |')


def test_other_sets_weighted_only_with_counts():
    synth = run_of({'synth_easy': 0.9, 'synth_hard': 0.6}, 's')
    rows = R.build_table([synth])
    assert list(rows[0]) == ['run', 'synth_easy', 'synth_hard', 'avg']
    assert rows[0]['avg'] == pytest.approx(75.0)
    assert any('left out' in n for n in R.table_notes(rows))
    counts = R.parse_counts(['synth_easy=100', 'synth_hard=300'])
    rows = R.build_table([synth], counts=counts)
    assert rows[0]['weighted avg'] == pytest.approx((90 * 100 + 60 * 300) / 400)  # 67.5
    with_json = run_of({'synth_easy': 0.9, 'synth_hard': 0.6}, counts={
        'synth_easy': 300, 'synth_hard': 100})
    assert R.build_table([with_json])[0]['weighted avg'] == pytest.approx(82.5)
    u14m_only = R.build_table([run_of(U14M)])
    assert list(u14m_only[0])[-1] == 'U14M avg' and 'avg' not in u14m_only[0]
    with pytest.raises(R.ResultsError, match='bad --counts'):
        R.parse_counts(['IIIT5K'])


def test_duplicate_names_are_distinguished():
    rows = R.build_table([run_of(SIX, 'x'), run_of(SIX, 'x')])
    assert [r['run'] for r in rows] == ['x', 'x (2)']


# ---------------------------------------------------------------- rendering


def test_published_table_is_separate_and_labelled():
    text = R.render([run_of(SIX, 'ours')], WAICS)
    ours, _, published = text.partition('## published (from the papers, not run here)')
    assert published, text
    assert 'MAERec-S' not in ours and 'LMIM' not in ours and 'ours' in ours
    assert '| MAERec-S | 98.0 | 97.6 | 96.8 | 87.1 | 93.2 | 97.9 | 95.1 | 78.6 |' in published
    assert '84.7 (20 ep: 86.3)' in published
    assert '| MNSP | - | - | - | - | - | - | 96.7 | 86.2 |' in published
    assert 'ours' not in published
    assert 'published' not in R.render([run_of(SIX)], published=False)
    assert 'a different metric' in R.render([run_of(SIX)], 'word_acc')


def test_csv_parses():
    rows = list(csv.reader(io.StringIO(R.render([run_of(SIX, 'a'), run_of({'IC13': 0.5}, 'b')],
                                                fmt='csv', published=False))))
    assert rows[0] == ['run', 'IIIT5K', 'IC13', 'SVT', 'IC15', 'SVTP', 'CUTE80', 'avg',
                       'weighted avg']
    assert rows[1] == ['a', '95.00', '93.00', '90.00', '80.00', '85.00', '88.00', '88.50',
                       '89.15']
    assert rows[2][:3] == ['b', '-', '50.00'] and len(rows) == 3
    full = list(csv.reader(io.StringIO(R.render([run_of(SIX, 'a')], fmt='csv'))))
    blank = full.index([])
    assert full[blank + 1][0].startswith('# published (from the papers, not run here)')
    assert full[blank + 2][:2] == ['method', 'IIIT5K']
    assert full[blank + 3][:3] == ['MAERec-S', '98.0', '97.6']
    assert full[blank + 5][:2] == ['MNSP', '-']


# ---------------------------------------------------------------- errors


def test_errors_name_the_path_and_list_metrics(tmp_path):
    bad = tmp_path / 'train_only' / '20240101_000000' / 'vis_data' / 'scalars.json'
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({'lr': 1e-4, 'loss': 2.0, 'step': 1}) + '\n')
    with pytest.raises(R.ResultsError, match='no metrics found in .*scalars.json') as e:
        R.load_run_metrics(bad)
    assert str(bad) in str(e.value)
    with pytest.raises(R.ResultsError, match='no metrics found in work dir') as e:
        R.load_run_metrics(tmp_path / 'train_only')
    assert str(tmp_path / 'train_only') in str(e.value)
    with pytest.raises(R.ResultsError, match='run not found'):
        R.load_run_metrics(tmp_path / 'missing')
    good = write_test_metrics(tmp_path / 'g' / 'test_metrics.json', SIX)
    run = R.load_run_metrics(good)
    with pytest.raises(R.ResultsError) as e:
        R.build_table([run], 'word_accuracy')
    msg = str(e.value)
    assert str(good) in msg and "'word_accuracy'" in msg
    for name in ['1-N.E.D', 'char_precision', 'char_recall', 'word_acc', WAICS]:
        assert name in msg
    with pytest.raises(R.ResultsError, match='--best .*nope.* matches no metric'):
        R.load_run_metrics(write_scalars(tmp_path / 'w'), best='nope')


# ---------------------------------------------------------------- CLI


def cli(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_end_to_end(tmp_path):
    a = write_test_metrics(tmp_path / 'maerec_ft' / 'test_metrics.json', SIX)
    wd = tmp_path / 'mnsp_ft'
    write_scalars(wd)
    write_test_log(tmp_path / 'u14m')
    res = cli(a, wd, tmp_path / 'u14m', '--name', 'MAERec-S (ours)', '--best', WAICS)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.index('## Our runs: word_acc_ignore_case_symbol (%)') < out.index(
        '## published (from the papers, not run here)')
    assert '| MAERec-S (ours) | 95.00 |' in out
    assert '| mnsp_ft | 96.00 | 94.00 |' in out  # --best picked the step-1 line
    assert '| u14m | - |' in out and f'{U14M_AVG:.2f} |' in out

    csv_out = tmp_path / 'out' / 'table.csv'
    res = cli(a, '--format', 'csv', '--no-published', '--out', csv_out,
              '--counts', 'IIIT5K=1000')
    assert res.returncode == 0, res.stderr
    assert res.stdout == '' and str(csv_out) in res.stderr
    rows = list(csv.DictReader(csv_out.open()))
    w = (95 * 1000 + 93 * 1015 + 90 * 647 + 80 * 2077 + 85 * 645 + 88 * 288) / 5672
    assert rows[0]['run'] == 'maerec_ft' and rows[0]['weighted avg'] == f'{w:.2f}'

    res = cli(a, '--metric', 'wordacc')
    assert res.returncode != 0
    assert str(a) in res.stderr and 'word_acc_ignore_case' in res.stderr
    empty = tmp_path / 'empty_run'
    empty.mkdir()
    res = cli(a, empty)
    assert res.returncode != 0 and str(empty) in res.stderr and 'no metrics' in res.stderr
