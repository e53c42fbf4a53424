# Ablation: normalised-pixel target instead of the MAERec teacher's features.
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(target_generator=dict(_delete_=True, type='PixelTarget', patch_size=4,
                                   norm_pix=True),
             neck=dict(out_dims=4 * 4 * 3))
