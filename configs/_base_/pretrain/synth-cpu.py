# Tiny CPU runs on the project's synthetic unlabeled crops (an LMDB below data_root, as
# written by tools/render_synth.py --format lmdb --unlabeled or `make demo`), 20 iterations
# of the same optimiser family as the paper schedule.
_base_ = ['default_runtime.py', 'adamw_warmup_cosine.py']
data_root = 'data/synth/pretrain'
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='UnlabeledTextDataset', sources=[dict(type='lmdb', path=data_root)]))
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
