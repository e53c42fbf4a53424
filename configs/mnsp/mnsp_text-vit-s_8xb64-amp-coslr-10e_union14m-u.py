# MNSP pretraining on Union14M-U: ViT-S/4, 3 scales, NSP + MIM + MLA, frozen MAERec teacher;
# the LMIM optimiser recipe (AdamW(0.9, 0.95), wd 0.05, lr 3e-4 at batch 512, 1 warm-up
# epoch, cosine, 10 epochs).
#   bash tools/dist_train.sh configs/mnsp/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py 8
# The teacher (model.target_generator.checkpoint) defaults to the last checkpoint of
# ../maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py in its default work dir.
_base_ = [
    '../_base_/pretrain/default_runtime.py',
    '../_base_/pretrain/mnsp_text-vit-s.py',  # with its pipeline (_base_/mnsp_pipeline.py)
    '../_base_/pretrain/adamw_lmim_10e.py',
    '../_base_/pretrain/union14m-u.py',
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=_base_.train_pipeline))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'scale_embed': dict(decay_mult=0.)}))
default_hooks = dict(logger=dict(interval=100))
