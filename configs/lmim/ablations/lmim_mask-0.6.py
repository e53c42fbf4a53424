# Ablation: mask ratio 0.6 instead of 0.8.
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(backbone=dict(mask_ratio=0.6))
