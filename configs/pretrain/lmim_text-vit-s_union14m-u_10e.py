# LMIM pretraining on Union14M-U, the paper recipe: ViT-S/4 at 32x128, mask 0.8, guidance
# view with the official augmentation, frozen MAERec teacher, AdamW(0.9, 0.95) wd 0.05,
# lr 3e-4 at batch 512 (8 GPUs x 64; --auto-scale-lr for other batches), 1 warm-up epoch,
# cosine, 10 epochs.
#   bash tools/dist_train.sh configs/pretrain/lmim_text-vit-s_union14m-u_10e.py 8 --amp \
#       --cfg-options model.target_generator.checkpoint=work_dirs/mae_text-vit-s_union14m-u/epoch_20.pth
_base_ = [
    '_base_/default_runtime.py',
    '_base_/lmim_text-vit-s.py',
    '_base_/lmim_pipeline.py',
    '_base_/adamw_lmim_10e.py',
    '_base_/union14m-u.py',
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=_base_.train_pipeline))
default_hooks = dict(logger=dict(interval=100))
