"""Tests of mnsp_mm/evaluation: bootstrap intervals, reading splits, the guessing baseline,
per-crop prediction dumps, the reading table and the Tesseract reader."""
import json
import shutil

import numpy as np
import pytest

from mnsp_mm import synth
from mnsp_mm.evaluation import (TextPredictionDump, bootstrap_mean, bootstrap_spearman,
                                guess_baseline,
                                in_vocabulary, normalise, one_minus_ned, paired_difference,
                                read_predictions, word_correct)
from mnsp_mm.evaluation.reading_table import ReadingTable


def _rows(pairs):
    return [dict(gt=g, pred=p) for g, p in pairs]


def test_bootstrap_interval_of_a_known_case():
    ones = bootstrap_mean(np.ones(50))
    assert (ones.value, ones.low, ones.high) == (1.0, 1.0, 1.0)
    coin = np.r_[np.ones(200), np.zeros(200)]
    ci = bootstrap_mean(coin, num=4000)
    assert ci.value == 0.5
    half = (ci.high - ci.low) / 2  # normal approximation: 1.96 * sqrt(0.25 / 400) = 0.049
    assert 0.04 < half < 0.06 and ci.low < 0.5 < ci.high
    assert bootstrap_mean(coin, seed=3) == bootstrap_mean(coin, seed=3)  # seeded


def test_spearman_with_its_interval_over_items():
    x = np.arange(12.)
    up = bootstrap_spearman(x, x ** 3)  # monotone: +1 in every resample
    assert (up.value, up.low, up.high) == pytest.approx((1.0, 1.0, 1.0))
    down = bootstrap_spearman(x, -np.exp(x))
    assert (down.value, down.low, down.high) == pytest.approx((-1.0, -1.0, -1.0))
    scrambled = np.arange(40.)
    noise = bootstrap_spearman(scrambled, (scrambled * 17) % 40)  # rank correlation -0.02
    assert noise.low < 0 < noise.high and not noise.excludes_zero
    ties = bootstrap_spearman([1, 1, 2, 3], [1, 2, 3, 4])  # ties get their mean rank
    assert ties.value == pytest.approx(0.9486833, abs=1e-6)
    with pytest.raises(ValueError, match='3\\+ values'):
        bootstrap_spearman([1, 2], [2, 1])


def test_strata_give_the_mean_of_set_means():
    values = np.r_[np.ones(10), np.zeros(1000)]
    strata = ['a'] * 10 + ['b'] * 1000
    ci = bootstrap_mean(values, strata)
    assert ci.value == pytest.approx(0.5) and ci.low == pytest.approx(0.5)  # no spread inside
    with pytest.raises(ValueError, match='strata'):
        bootstrap_mean(values, strata[:-1])


def test_paired_difference_cancels_shared_items():
    rng = np.random.default_rng(0)
    b = (rng.random(500) < 0.5).astype(float)
    same = paired_difference(b, b)
    assert same.value == 0 and not same.excludes_zero
    a = b.copy()
    a[np.flatnonzero(b == 0)[:20]] = 1  # a reads 20 more crops: +0.04
    diff = paired_difference(a, b)
    assert diff.value == pytest.approx(0.04) and diff.excludes_zero
    # unpaired intervals of the two means overlap, the paired one still excludes 0
    ia, ib = bootstrap_mean(a), bootstrap_mean(b)
    assert ia.low < ib.high
    with pytest.raises(ValueError, match='equal-length'):
        paired_difference(a, b[:-1])


def test_word_score_matches_mmocr_word_metric_ignore_case_symbol():
    from mmocr.evaluation import WordMetric
    pairs = [('Hello', 'hello!'), ('it\'s', 'its'), ('abc', 'abd'), ('42', '42'), ('a-b', 'ab')]
    metric = WordMetric(mode='ignore_case_symbol')
    samples = [{'gt_text': {'item': gt}, 'pred_text': {'item': pred}} for gt, pred in pairs]
    metric.process(None, samples)
    expected = metric.compute_metrics(metric.results)['word_acc_ignore_case_symbol']
    assert word_correct(_rows(pairs)).mean() == pytest.approx(expected)
    assert normalise("It's-OK!") == 'itsok'
    assert one_minus_ned(_rows([('abcd', 'abcd'), ('abcd', 'abxd')])).tolist() == [1.0, 0.75]


def test_in_vocabulary_split_of_a_known_case():
    rows = _rows([('house', ''), ('House', ''), ('zebra', ''), ('k8lp', ''), ("it's", '')])
    iv = in_vocabulary(rows, ['house', 'cat', 'its'])
    assert iv.tolist() == [True, True, False, False, True]


def test_guess_baseline_is_the_exact_chance_of_a_match():
    rows = _rows([('cat', ''), ('dog', ''), ('zzz', '')])
    guess = guess_baseline(rows, ['cat', 'cat', 'dog', 'cow'], draws=50)
    assert guess['word'].tolist() == [0.5, 0.25, 0.0]
    assert 0 < guess['ned'][0] < 1 and guess['ned'][2] == 0


def test_prediction_dump_writes_one_file_per_set(tmp_path):
    metric = TextPredictionDump(str(tmp_path), dataset_prefixes=['a', 'b'])
    samples = [{'img_path': f'{i}.png', 'gt_text': {'item': f'w{i}'},
                'pred_text': {'item': f'w{i}', 'score': [0.5, 1.0]}} for i in range(3)]
    metric.process(None, samples)
    assert metric.compute_metrics(metric.results[:2]) == {}
    metric.compute_metrics(metric.results[2:])
    a, b = read_predictions(tmp_path / 'a.jsonl'), read_predictions(tmp_path / 'b.jsonl')
    assert [r['gt'] for r in a] == ['w0', 'w1'] and [r['index'] for r in b] == [0]
    assert a[0]['score'] == 0.75 and b[0]['img_path'] == '2.png'
    (tmp_path / 'bad.jsonl').write_text('{"gt": "x"}\n')
    with pytest.raises(ValueError, match='bad.jsonl:1'):
        read_predictions(tmp_path / 'bad.jsonl')
    with pytest.raises(FileNotFoundError, match='TextPredictionDump'):
        read_predictions(tmp_path / 'missing.jsonl')


def test_reading_table_splits_scores_and_pairs_methods():
    train = ['house', 'cat']
    sets = {'s1': _rows([('house', 'house'), ('zebra', 'zebra'), ('k8', 'x')]),
            's2': _rows([('cat', 'cat'), ('q1', 'q1')])}
    worse = {'s1': _rows([('house', 'house'), ('zebra', 'zeb'), ('k8', 'x')]),
             's2': _rows([('cat', 'cat'), ('q1', 'no')])}
    table = ReadingTable({'good': sets, 'bad': worse}, train, num=200)
    assert table.counts() == {'s1': {'oov': 2, 'iv': 1}, 's2': {'oov': 1, 'iv': 1}}
    assert table.interval(table.word['good'], 'oov').value == pytest.approx((0.5 + 1) / 2)
    assert table.interval(table.word['bad'], 'oov').value == 0
    assert table.interval(table.word['bad'], 'iv').value == 1
    assert table.difference('good', 'bad').value == pytest.approx(0.75)
    lines = table.markdown('word', 'oov')
    assert lines[0].startswith('| method | s1 | s2 |') and len(lines) == 2 + 3
    assert 'random training label' in lines[-1]
    assert 'measurable' in table.difference_lines('bad')[0]
    with pytest.raises(ValueError, match='different test crops'):
        ReadingTable({'a': sets, 'b': {'s1': sets['s1'], 's2': sets['s2'][:1]}}, train)


@pytest.mark.skipif(shutil.which('tesseract') is None, reason='tesseract is not installed')
def test_tesseract_reads_a_rendered_set(tmp_path):
    from dataclasses import replace

    from mnsp_mm.evaluation.tesseract import read_textrecog_set
    cfg = replace(synth.preset('regular'), text_kinds={'word': 1.0}, fold_labels=True)
    synth.write_dataset(tmp_path, (synth.render_sample((0, i), cfg) for i in range(4)),
                        name='t')
    out = read_textrecog_set(tmp_path, 'textrecog_t.json', tmp_path / 'p' / 't.jsonl')
    rows = read_predictions(out)
    gts = [e['instances'][0]['text']
           for e in json.loads((tmp_path / 'textrecog_t.json').read_text())['data_list']]
    assert [r['gt'] for r in rows] == gts and all(isinstance(r['pred'], str) for r in rows)
    assert word_correct(rows).sum() >= 1  # clean, straight crops: Tesseract reads some
