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
# img_path entries are relative to each subset's folder, except `general`, whose images
# live under the Union14M-L root (the layout of the released annotation files).
union14m_benchmark = [
    dict(type='OCRDataset', ann_file=f'{union14m_benchmark_root}/{folder}/annotation.json',
         data_prefix=dict(img_path=union14m_root if folder == 'general'
                          else f'{union14m_benchmark_root}/{folder}'),
         test_mode=True, pipeline=None)
    for folder in _subsets
]
union14m_benchmark_prefixes = list(_subsets.values())
