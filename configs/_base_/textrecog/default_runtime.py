# Runtime shared by fine-tuning / evaluation configs (mmocr scope).
default_scope = 'mmocr'
custom_imports = dict(imports=['mnsp_mm'], allow_failed_imports=False)
# Our runner (mnsp_mm/apis/prepare.py): data checks, label length from the decoder, skip
# counts from the workers. MMOCR's / mmpretrain's tools/train.py and `mim train` build it too.
runner_type = 'MnspRunner'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
randomness = dict(seed=0)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffer=dict(type='SyncBuffersHook'),
    visualization=dict(type='VisualizationHook', interval=1, enable=False, show=False,
                       draw_gt=False, draw_pred=False),
)
log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
load_from = None
resume = False
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='TextRecogLocalVisualizer', name='visualizer', vis_backends=vis_backends)
# Reliability (docs/robustness.md): every run gets NonFiniteLossHook, DataHealthHook,
# RNGStateHook and FairShareHook, appended to custom_hooks by mnsp_mm.apis.load_config (DEFAULT_CUSTOM_HOOKS).
