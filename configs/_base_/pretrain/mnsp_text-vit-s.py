# MNSP: ViT-S/4 student on a 3-scale pyramid (8x32, 16x64, 32x128 pixels -> 2x8, 4x16, 8x32
# tokens): block-causal coarse scales, 80%-masked full scale; NSP (1-block decoder) + MIM
# (LMIM's 2-block SA->CA decoder over the multi-scale context) + multi-scale [cls]
# alignment; targets from a frozen MAERec teacher run once on the full view.
# The scales and the views they give come from mnsp_pipeline.py (one list for both).
_base_ = ['mnsp_pipeline.py']
img_size = _base_.scales[-1]
patch_size = 4
grid = (img_size[0] // patch_size, img_size[1] // patch_size)
teacher_checkpoint = 'work_dirs/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u/epoch_20.pth'

model = dict(
    type='MNSP',
    scales=_base_.scales,
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                           to_rgb=False),
    backbone=dict(type='TextViT', arch='small', img_size=img_size, patch_size=patch_size,
                  mask_ratio=0.8),
    neck=dict(type='GuidedDecoder', grid=grid, in_dims=384, embed_dims=512, depth=2,
              num_heads=16, ffn_dims=2048, dropout=0.1, order='sa_ca', out_dims=384),
    nsp_neck=dict(type='GuidedDecoder', grid=grid, in_dims=384, embed_dims=512, depth=1,
                  num_heads=16, ffn_dims=2048, dropout=0.1, order='sa_ca', out_dims=384),
    head=dict(type='MIMHead', loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    target_generator=dict(
        type='FrozenTeacher', checkpoint=teacher_checkpoint,
        backbone=dict(type='TextViT', arch='small', img_size=img_size, patch_size=patch_size)),
    use_nsp=True,
    use_mim=True,
    use_mla=True,
    use_guidance=False,
    mim_weight=1.0,
    nsp_weight=1.0,
    mla_weight=1.0,
)
