# Tiny MAE for a CPU: the same code as the paper config, a 4-layer 96-d ViT and a 1-block
# decoder, on the project's synthetic crops (render them with tools/render_synth.py or
# `make demo`). Used by the smoke demo and the tests.
_base_ = [
    '_base_/default_runtime.py',
    '_base_/mae_text-vit-s.py',
    '_base_/pretrain_pipeline.py',
    '_base_/adamw_warmup_cosine.py',
]
data_root = 'data/synth/pretrain'
tiny_arch = dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
model = dict(
    backbone=dict(arch=tiny_arch),
    neck=dict(embed_dim=96, decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=2),
)
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='UnlabeledTextDataset', sources=[dict(type='lmdb', path=data_root)],
                 pipeline={{_base_.train_pipeline}}),
)
max_iters = 20
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='CosineAnnealingLR', T_max=max_iters - 5, by_epoch=False, begin=5, end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
log_processor = dict(window_size=5, by_epoch=False)
