# LMIM pretraining on Union14M-U, the paper recipe: ViT-S/4 at 32x128, mask 0.8, guidance
# view with the official augmentation, frozen MAERec teacher, AdamW(0.9, 0.95) wd 0.05,
# lr 3e-4 at batch 512 (8 GPUs x 64; --auto-scale-lr for other batches), 1 warm-up epoch,
# cosine, 10 epochs.
#   bash tools/dist_train.sh configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py 8
# The teacher (model.target_generator.checkpoint) defaults to the last checkpoint of
# ../maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py in its default work dir.
_base_ = [
    '../_base_/pretrain/default_runtime.py',
    '../_base_/pretrain/lmim_text-vit-s.py',
    '../_base_/pretrain/lmim_pipeline.py',
    '../_base_/pretrain/adamw_lmim_10e.py',
    '../_base_/pretrain/union14m-u.py',
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=_base_.train_pipeline))
default_hooks = dict(logger=dict(interval=100))
