# The six common benchmarks, as prepared by `tools/prepare_dataset.py` under data/.
iiit5k_textrecog_test = dict(type='OCRDataset', data_root='data/iiit5k',
                             ann_file='textrecog_test.json', test_mode=True, pipeline=None)
svt_textrecog_test = dict(type='OCRDataset', data_root='data/svt',
                          ann_file='textrecog_test.json', test_mode=True, pipeline=None)
icdar2013_textrecog_test = dict(type='OCRDataset', data_root='data/icdar2013',
                                ann_file='textrecog_test.json', test_mode=True,
                                pipeline=None)
icdar2015_textrecog_test = dict(type='OCRDataset', data_root='data/icdar2015',
                                ann_file='textrecog_test.json', test_mode=True, pipeline=None)
svtp_textrecog_test = dict(type='OCRDataset', data_root='data/svtp',
                           ann_file='textrecog_test.json', test_mode=True, pipeline=None)
cute80_textrecog_test = dict(type='OCRDataset', data_root='data/cute80',
                             ann_file='textrecog_test.json', test_mode=True, pipeline=None)

common_benchmarks = [cute80_textrecog_test, iiit5k_textrecog_test, svt_textrecog_test,
                     svtp_textrecog_test, icdar2013_textrecog_test, icdar2015_textrecog_test]
common_benchmark_prefixes = ['CUTE80', 'IIIT5K', 'SVT', 'SVTP', 'IC13', 'IC15']
