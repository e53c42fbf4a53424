# Targets: each scale's normalised pixels instead of the teacher's features (no teacher).
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(target_generator=dict(_delete_=True, type='PixelTarget', patch_size=4,
                                   norm_pix=True),
             neck=dict(out_dims=4 * 4 * 3), nsp_neck=dict(out_dims=4 * 4 * 3))
