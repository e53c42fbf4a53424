_test_sets = [
    dict(
        ann_file='textrecog_test.json',
        data_root='data/synth/finetune',
        pipeline=None,
        test_mode=True,
        type='OCRDataset'),
]
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
data_root = 'work_dirs/demo/data/finetune'
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False, interval=200, max_keep_ckpts=1, type='CheckpointHook'),
    logger=dict(interval=40, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffer=dict(type='SyncBuffersHook'),
    timer=dict(type='IterTimerHook'),
    visualization=dict(
        draw_gt=False,
        draw_pred=False,
        enable=False,
        interval=1,
        show=False,
        type='VisualizationHook'))
default_scope = 'mmocr'
dictionary = dict(
    dict_file=
    '/work/main/configs/demo/../_base_/textrecog/dicts/lower_english_digits.txt',
    same_start_end=True,
    type='Dictionary',
    with_end=True,
    with_padding=True,
    with_start=True,
    with_unknown=True)
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='gloo'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
grid = (
    4,
    16,
)
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=False, type='LogProcessor', window_size=10)
max_iters = 200
model = dict(
    backbone=dict(
        arch=dict(
            embed_dims=96, feedforward_channels=384, num_heads=3,
            num_layers=4),
        drop_path_rate=0.0,
        img_size=(
            32,
            128,
        ),
        learnable_pos=True,
        patch_size=8,
        pretrained=None,
        stem='conv',
        stem_channels_last=True,
        tuple_output=False,
        type='TextViT'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
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
        type='TextRecogDataPreprocessor'),
    decoder=dict(
        dictionary=dict(
            dict_file=
            '/work/main/configs/demo/../_base_/textrecog/dicts/lower_english_digits.txt',
            same_start_end=True,
            type='Dictionary',
            with_end=True,
            with_padding=True,
            with_start=True,
            with_unknown=True),
        grid=(
            4,
            16,
        ),
        in_channels=96,
        type='TokenCTCDecoder'),
    type='TextMAERec')
optim_wrapper = dict(
    optimizer=dict(
        betas=(
            0.9,
            0.999,
        ), lr=0.002, type='AdamW', weight_decay=0.01),
    type='OptimWrapper')
param_scheduler = [
    dict(begin=0, by_epoch=False, end=80, start_factor=0.1, type='LinearLR'),
    dict(
        T_max=720,
        begin=80,
        by_epoch=False,
        end=800,
        eta_min_ratio=0.01,
        type='CosineAnnealingLR'),
]
patch_size = 8
randomness = dict(seed=1)
recog_metrics = [
    dict(
        mode=[
            'exact',
            'ignore_case',
            'ignore_case_symbol',
        ],
        type='WordMetric'),
    dict(type='CharMetric'),
    dict(type='OneMinusNEDMetric'),
]
resume = False
runner_type = 'MnspRunner'
test_cfg = dict(type='TestLoop')
test_dataloader = dict(
    batch_size=64,
    dataset=dict(
        datasets=[
            dict(
                ann_file='textrecog_val_regular.json',
                data_root='/work/main/work_dirs/lr/data/finetune',
                pipeline=None,
                test_mode=True,
                type='OCRDataset'),
            dict(
                ann_file='textrecog_val_default.json',
                data_root='/work/main/work_dirs/lr/data/finetune',
                pipeline=None,
                test_mode=True,
                type='OCRDataset'),
        ],
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(scale=(
                128,
                32,
            ), type='Resize'),
            dict(type='LoadOCRAnnotations', with_text=True),
            dict(
                meta_keys=(
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'valid_ratio',
                ),
                type='PackTextRecogInputs'),
        ],
        type='ConcatDataset'),
    drop_last=False,
    num_workers=0,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    dataset_prefixes=[
        'val_regular',
        'val_default',
    ],
    metrics=[
        dict(
            mode=[
                'exact',
                'ignore_case',
                'ignore_case_symbol',
            ],
            type='WordMetric'),
        dict(type='CharMetric'),
        dict(type='OneMinusNEDMetric'),
        dict(
            dataset_prefixes=[
                'val_regular',
                'val_default',
            ],
            out_dir=
            '/work/main/work_dirs/lr/finetune_scratch_val_ft1/predictions',
            type='TextPredictionDump'),
    ],
    type='MultiDatasetsEvaluator')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(scale=(
        128,
        32,
    ), type='Resize'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(
        meta_keys=(
            'img_path',
            'ori_shape',
            'img_shape',
            'valid_ratio',
        ),
        type='PackTextRecogInputs'),
]
test_sets = [
    'regular',
    'curved',
    'rotated',
    'perspective',
    'low_res',
    'long_words',
    'unusual_fonts',
    'held_out_fonts',
]
train_cfg = dict(max_iters=800, type='IterBasedTrainLoop', val_interval=200)
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        ann_file='textrecog_train.json',
        data_root='/work/main/work_dirs/lr/data/finetune',
        pipeline=[
            dict(
                dictionary=dict(
                    dict_file=
                    '/work/main/configs/demo/../_base_/textrecog/dicts/lower_english_digits.txt',
                    same_start_end=True,
                    type='Dictionary',
                    with_end=True,
                    with_padding=True,
                    with_start=True,
                    with_unknown=True),
                long_label='skip',
                max_len=None,
                type='FilterTextLabel'),
            dict(type='LoadOCRAnnotations', with_text=True),
            dict(channel_order='bgr', min_size=2, type='LoadTextImage'),
            dict(scale=(
                128,
                32,
            ), type='Resize'),
            dict(
                meta_keys=(
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'valid_ratio',
                ),
                type='PackTextRecogInputs'),
        ],
        type='OCRDataset'),
    num_workers=0,
    sampler=dict(shuffle=True, type='InfiniteSampler'))
train_pipeline = [
    dict(
        dictionary=dict(
            dict_file=
            '/work/main/configs/demo/../_base_/textrecog/dicts/lower_english_digits.txt',
            same_start_end=True,
            type='Dictionary',
            with_end=True,
            with_padding=True,
            with_start=True,
            with_unknown=True),
        long_label='skip',
        max_len=None,
        type='FilterTextLabel'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(channel_order='bgr', min_size=2, type='LoadTextImage'),
    dict(scale=(
        128,
        32,
    ), type='Resize'),
    dict(
        meta_keys=(
            'img_path',
            'ori_shape',
            'img_shape',
            'valid_ratio',
        ),
        type='PackTextRecogInputs'),
]
val_cfg = None
val_dataloader = None
val_evaluator = None
vis_backends = [
    dict(type='LocalVisBackend'),
]
visualizer = dict(
    name='visualizer',
    type='TextRecogLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/lr/finetune_scratch_val_ft1/rerun'
