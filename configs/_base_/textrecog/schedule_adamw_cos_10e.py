# MAERec fine-tuning schedule: AdamW lr 4e-4 (batch 128/GPU reference), wd 0.01, 10 epochs,
# cosine to 4e-6 (a hundredth), iteration-based updates.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01))
max_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=4e-6, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=128)
