# MMOCR's recognition metrics on every dataset of a ConcatDataset, one prefix per dataset.
# Headline: <prefix>/recog/word_acc_ignore_case_symbol (WAICS).
recog_metrics = [
    dict(type='WordMetric', mode=['exact', 'ignore_case', 'ignore_case_symbol']),
    dict(type='CharMetric'),
    dict(type='OneMinusNEDMetric'),
]
