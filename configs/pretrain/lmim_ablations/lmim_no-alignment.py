# Ablation: guidance view but no [cls] alignment loss.
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
model = dict(align_weight=0.0)
