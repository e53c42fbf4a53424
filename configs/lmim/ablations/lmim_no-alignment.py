# Ablation: guidance view but no [cls] alignment loss.
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(align_weight=0.0)
