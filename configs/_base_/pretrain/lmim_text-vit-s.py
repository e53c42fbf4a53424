# LMIM (CVPR 2025): student ViT-S/4 at 32x128 with 80% masking, 2-block 512-d SA->CA decoder
# predicting a frozen MAERec teacher's layer-normalised patch tokens, plus [cls] alignment.
img_size = (32, 128)
patch_size = 4
grid = (img_size[0] // patch_size, img_size[1] // patch_size)
teacher_checkpoint = 'work_dirs/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u/epoch_20.pth'

model = dict(
    type='LMIM',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                           to_rgb=False),
    backbone=dict(type='TextViT', arch='small', img_size=img_size, patch_size=patch_size,
                  mask_ratio=0.8),
    neck=dict(type='GuidedDecoder', grid=grid, in_dims=384, embed_dims=512, depth=2,
              num_heads=16, ffn_dims=2048, dropout=0.1, order='sa_ca', out_dims=384),
    head=dict(type='MIMHead', loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    target_generator=dict(
        type='FrozenTeacher', checkpoint=teacher_checkpoint,
        backbone=dict(type='TextViT', arch='small', img_size=img_size, patch_size=patch_size)),
    use_guidance=True,
    mim_weight=1.0,
    align_weight=1.0,
)
