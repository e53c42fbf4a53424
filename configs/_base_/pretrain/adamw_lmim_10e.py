# The LMIM optimiser recipe (also used for MNSP): AdamW(0.9, 0.95), wd 0.05, lr 3e-4 at
# batch 512 (auto_scale_lr), 1 linear warm-up epoch then cosine, 10 epochs, AMP on GPU.
_base_ = ['adamw_warmup_cosine.py']
max_epochs = 10
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0., by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
