auto_scale_lr = dict(base_batch_size=1024)
base_lr = 0.0006
custom_hooks = [
    dict(type='NonFiniteLossHook'),
    dict(type='DataHealthHook'),
    dict(type='RNGStateHook'),
    dict(type='FairShareHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mnsp_mm',
    ])
data_root = 'data/synth/pretrain'
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False, interval=62, max_keep_ckpts=1, type='CheckpointHook'),
    logger=dict(interval=12, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    runtime_info=dict(type='RuntimeInfoHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    timer=dict(type='IterTimerHook'))
default_scope = 'mmpretrain'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='gloo'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
find_unused_parameters = True
grid = (
    4,
    16,
)
img_size = (
    32,
    128,
)
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=False, window_size=5)
max_epochs = 20
max_iters = 20
model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=96, feedforward_channels=384, num_heads=3,
            num_layers=4),
        img_size=(
            32,
            128,
        ),
        mask_ratio=0.75,
        patch_size=8,
        stem='conv',
        stem_channels_last=True,
        type='TextViT'),
    data_preprocessor=dict(
        mean=[
            127.5,
            127.5,
            127.5,
        ],
        std=[
            127.5,
            127.5,
            127.5,
        ],
        to_rgb=False,
        type='SelfSupDataPreprocessor'),
    head=dict(
        loss=dict(criterion='L2', type='PixelReconstructionLoss'),
        norm_pix=True,
        patch_size=8,
        type='TextMAEHead'),
    neck=dict(
        decoder_depth=1,
        decoder_embed_dim=64,
        decoder_num_heads=2,
        embed_dim=96,
        grid=(
            4,
            16,
        ),
        mlp_ratio=4,
        patch_size=8,
        type='TextMAEDecoder'),
    type='TextMAE')
optim_wrapper = dict(
    optimizer=dict(
        betas=(
            0.9,
            0.95,
        ), lr=0.00015, type='AdamW', weight_decay=0.05),
    paramwise_cfg=dict(
        bias_decay_mult=0.0,
        custom_keys=dict(
            cls_token=dict(decay_mult=0.0),
            mask_token=dict(decay_mult=0.0),
            pos_embed=dict(decay_mult=0.0)),
        norm_decay_mult=0.0),
    type='OptimWrapper')
param_scheduler = [
    dict(begin=0, by_epoch=False, end=25, start_factor=0.1, type='LinearLR'),
    dict(
        T_max=225,
        begin=25,
        by_epoch=False,
        end=250,
        eta_min_ratio=0.01,
        type='CosineAnnealingLR'),
]
patch_size = 8
randomness = dict(diff_rank_seed=True, seed=0)
resume = False
runner_type = 'MnspRunner'
stem = 'conv'
stem_channels_last = True
tiny_arch = dict(
    _delete_=True,
    embed_dims=96,
    feedforward_channels=384,
    num_heads=3,
    num_layers=4)
train_cfg = dict(max_iters=250, type='IterBasedTrainLoop')
train_dataloader = dict(
    batch_size=64,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        pipeline=[
            dict(channel_order='rgb', type='LoadTextImage'),
            dict(keep_ratio=False, scale=(
                128,
                32,
            ), type='Resize'),
            dict(type='PackInputs'),
        ],
        sources=[
            dict(
                path='/work/main/work_dirs/lr/data/pool/lmdb/pretrain',
                type='lmdb'),
        ],
        type='UnlabeledTextDataset'),
    num_workers=0,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(channel_order='rgb', type='LoadTextImage'),
    dict(keep_ratio=False, scale=(
        128,
        32,
    ), type='Resize'),
    dict(type='PackInputs'),
]
vis_backends = [
    dict(type='LocalVisBackend'),
]
visualizer = dict(
    type='UniversalVisualizer', vis_backends=[
        dict(type='LocalVisBackend'),
    ])
warmup_epochs = 2
work_dir = 'work_dirs/lr/pretrain_mae_lr1.5e-4/rerun'
