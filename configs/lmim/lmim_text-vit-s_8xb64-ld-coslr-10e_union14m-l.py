# Fine-tuning from an LMIM checkpoint with the LMIM recipe: AdamW lr 2e-4 at batch 512
# (8 GPUs x 64; --auto-scale-lr for others), layer-wise lr decay 0.75, drop-path 0.1,
# 10 epochs, English max length 25. The augmentation stays MAERec's (see README: LMIM's
# ABINet-style augmentation is not reproduced).
#   bash tools/dist_train.sh configs/lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py 8
# The encoder (model.backbone.pretrained) defaults to the epoch_10 checkpoint of
# lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py in its default work dir.
_base_ = ['../maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py']
model = dict(
    backbone=dict(
        pretrained='work_dirs/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u/epoch_10.pth',
        drop_path_rate=0.1),
    decoder=dict(max_seq_len=25))
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(
    optimizer=dict(lr=2e-4, weight_decay=0.05),
    constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.75, norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'pos_embed': dict(decay_mult=0.),
                                    'cls_token': dict(decay_mult=0.)}))
auto_scale_lr = dict(base_batch_size=512)
