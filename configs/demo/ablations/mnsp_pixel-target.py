# The study's teacher-free MNSP row: each scale's normalised pixels (8x8x3 per patch of its
# own view) as the NSP and MIM targets instead of the MAE teacher's features.
_base_ = ['../mnsp_pretrain.py']
model = dict(target_generator=dict(_delete_=True, type='PixelTarget',
                                   patch_size=_base_.patch_size, norm_pix=True),
             neck=dict(out_dims=_base_.patch_size**2 * 3),
             nsp_neck=dict(out_dims=_base_.patch_size**2 * 3))
