# Ablation: mask ratio 0.6 instead of 0.8.
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
model = dict(backbone=dict(mask_ratio=0.6))
