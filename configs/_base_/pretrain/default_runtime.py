# Runtime shared by every pretraining config (mmpretrain scope).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mnsp_mm'], allow_failed_imports=False)
# Our runner (mnsp_mm/apis/prepare.py): data checks, label length from the decoder, skip
# counts from the workers. MMOCR's / mmpretrain's tools/train.py and `mim train` build it too.
runner_type = 'MnspRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
# DDP: parameters without a gradient in some iteration (e.g. an MNSP ablation switching a
# loss off) must not stop the run; the cost is one graph walk per iteration.
find_unused_parameters = True
# Reliability (docs/robustness.md): every run gets NonFiniteLossHook, DataHealthHook,
# RNGStateHook and FairShareHook, appended to custom_hooks by mnsp_mm.apis.load_config (DEFAULT_CUSTOM_HOOKS).
