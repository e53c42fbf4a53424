# Evaluate a MAERec-S-architecture checkpoint on the six common benchmarks instead of the
# Union14M-Benchmark:
#   python tools/test.py configs/maerec/maerec_text-vit-s_test_common-benchmarks.py CKPT
_base_ = ['maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py']
model = dict(backbone=dict(pretrained=None))
test_dataloader = dict(dataset=dict(datasets=_base_.common_benchmarks))
test_evaluator = dict(dataset_prefixes=_base_.common_benchmark_prefixes)
