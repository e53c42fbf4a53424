# Ablation: decoder blocks cross-attend first, then self-attend (CA -> SA).
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
model = dict(neck=dict(order='ca_sa'))
