# Union14M-L (labeled training crops) and Union14M-Benchmark; layout in dataset_zoo/.
union14m_root = 'data/Union14M-L'
union14m_train = [
    dict(type='OCRDataset', data_root=union14m_root,
         ann_file=f'train_annos/mmocr1.0/train_{split}.json', pipeline=None)
    for split in ('challenging', 'hard', 'medium', 'normal', 'easy')
]
union14m_benchmark_root = 'data/Union14M-L/Union14M-Benchmarks'
_subsets = dict(artistic='artistic', multi_oriented='multi-oriented', contextless='contextless',
                curve='curve', incomplete='incomplete', incomplete_ori='incomplete-ori',
                multi_words='multi-words', salient='salient', general='general')
union14m_benchmark = [
    dict(type='OCRDataset', data_root=union14m_benchmark_root,
         ann_file=f'{folder}/annotation.json', test_mode=True, pipeline=None)
    for folder in _subsets
]
union14m_benchmark_prefixes = list(_subsets.values())
