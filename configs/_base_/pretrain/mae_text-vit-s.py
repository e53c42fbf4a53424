# MAERec's pretraining model: ViT-S/4 on 32x128 text crops, 8x32 tokens, mask 0.75,
# 512-d 8-block decoder, normalised-pixel target (MAE norm_pix_loss).
img_size = (32, 128)
patch_size = 4
grid = (img_size[0] // patch_size, img_size[1] // patch_size)

model = dict(
    type='TextMAE',
    # images are loaded as RGB; MAERec pretraining normalises with mean = std = 0.5
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                           to_rgb=False),
    backbone=dict(type='TextViT', arch='small', img_size=img_size, patch_size=patch_size,
                  mask_ratio=0.75),
    neck=dict(type='TextMAEDecoder', grid=grid, patch_size=patch_size, embed_dim=384,
              decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4),
    head=dict(type='TextMAEHead', norm_pix=True, patch_size=patch_size,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')),
)
