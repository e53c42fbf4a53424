# Tiny MAERec recogniser for a CPU on the project's synthetic crops: the same code as the
# paper config with a 4-layer 96-d TextViT and a 2-layer decoder. Train from scratch, or from
# a tiny pretraining checkpoint:  --cfg-options model.backbone.pretrained=work_dirs/.../iter_N.pth
_base_ = [
    '../_base_/textrecog/default_runtime.py',
    '../_base_/textrecog/maerec_vit-s.py',
    '../_base_/textrecog/evaluation.py',
]
data_root = 'data/synth/finetune'
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3,
                            feedforward_channels=384), drop_path_rate=0.0),
    decoder=dict(n_layers=2, d_embedding=96, d_model=96, n_head=4, d_k=24, d_v=24,
                 d_inner=384, max_seq_len=25),
)
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='OCRDataset', data_root=data_root, ann_file='textrecog_train.json',
                 pipeline=_base_.train_pipeline))
_test_sets = [dict(type='OCRDataset', data_root=data_root, ann_file='textrecog_test.json',
                   test_mode=True, pipeline=None)]
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=_test_sets, pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                     dataset_prefixes=['synth'])
test_evaluator = val_evaluator

max_iters = 200
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=max_iters - 20, eta_min=1e-5, by_epoch=False,
         begin=20, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
