# MAERec-S pretraining (the baseline and the LMIM/MNSP teacher): MAE on Union14M-U,
# ViT-S/4 at 32x128, mask 0.75, 20 epochs (2 warm-up), AdamW lr 1.5e-4 x batch/256.
# 8 GPUs x 128 = 1024 images per step; AMP on GPU:
#   bash tools/dist_train.sh configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py 8
_base_ = [
    '../_base_/pretrain/default_runtime.py',
    '../_base_/pretrain/mae_text-vit-s.py',
    '../_base_/pretrain/pretrain_pipeline.py',
    '../_base_/pretrain/adamw_warmup_cosine.py',
    '../_base_/pretrain/union14m-u.py',
]
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
default_hooks = dict(logger=dict(interval=100))
