# The study's teacher-free LMIM row: every patch's normalised pixels (8x8x3) as the target
# instead of the MAE teacher's features; the guidance view and the [cls] alignment stay.
_base_ = ['../lmim_pretrain.py']
model = dict(target_generator=dict(_delete_=True, type='PixelTarget',
                                   patch_size=_base_.patch_size, norm_pix=True),
             neck=dict(out_dims=_base_.patch_size**2 * 3))
