# MNSP pretraining on Union14M-U: ViT-S/4, 3 scales, NSP + MIM + MLA, frozen MAERec teacher;
# the LMIM optimiser recipe (AdamW(0.9, 0.95), wd 0.05, lr 3e-4 at batch 512, 1 warm-up
# epoch, cosine, 10 epochs).
#   bash tools/dist_train.sh configs/pretrain/mnsp_text-vit-s_union14m-u_10e.py 8 --amp \
#       --cfg-options model.target_generator.checkpoint=work_dirs/mae_text-vit-s_union14m-u/epoch_20.pth
_base_ = [
    '_base_/default_runtime.py',
    '_base_/mnsp_text-vit-s.py',
    '_base_/mnsp_pipeline.py',
    '_base_/adamw_warmup_cosine.py',
    '_base_/union14m-u.py',
]
max_epochs = 10
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=_base_.train_pipeline))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(lr=3e-4),
                     paramwise_cfg=dict(custom_keys={'scale_embed': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0., by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(logger=dict(interval=100))
