# The MAE/MAERec optimiser: AdamW(0.9, 0.95), wd 0.05, no decay on norms, biases, positions,
# cls and mask tokens; linear warm-up then cosine, epoch-based (converted to iterations).
max_epochs = 20
warmup_epochs = 2
base_lr = 1.5e-4 * 1024 / 256  # lr = blr * batch / 256 at the reference batch of 1024

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
        }),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0., by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# `tools/train.py --auto-scale-lr` rescales lr to the real total batch (GPUs x batch per GPU).
auto_scale_lr = dict(base_batch_size=1024)
