# The scene subset of the Chinese text recognition benchmark (Chen et al., "Benchmarking
# Chinese Text Recognition", FudanVI/benchmarking-chinese-text-recognition), the LMIM paper's
# Chinese fine-tuning data. Its LMDBs (scene_train, scene_val, scene_test) use the usual keys
# (num-samples, image-%09d, label-%09d) and are downloaded by hand into data/chinese_benchmark/.
chinese_benchmark_root = 'data/chinese_benchmark'
chinese_benchmark_train = [dict(type='LabeledLMDBDataset', data_root=chinese_benchmark_root,
                                ann_file='scene_train', pipeline=None)]
chinese_benchmark_val = [dict(type='LabeledLMDBDataset', data_root=chinese_benchmark_root,
                              ann_file='scene_val', test_mode=True, pipeline=None)]
chinese_benchmark_test = [dict(type='LabeledLMDBDataset', data_root=chinese_benchmark_root,
                               ann_file='scene_test', test_mode=True, pipeline=None)]
