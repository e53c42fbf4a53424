# Evaluate a MAERec-S-architecture checkpoint on the six common benchmarks instead of the
# Union14M-Benchmark:  python tools/test.py configs/finetune/maerec-s_common-benchmarks_test.py CKPT
_base_ = ['maerec-s_union14m-l.py']
model = dict(backbone=dict(pretrained=None))
test_dataloader = dict(dataset=dict(datasets=_base_.common_benchmarks))
test_evaluator = dict(dataset_prefixes=_base_.common_benchmark_prefixes)
