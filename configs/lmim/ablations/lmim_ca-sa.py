# Ablation: decoder blocks cross-attend first, then self-attend (CA -> SA).
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(neck=dict(order='ca_sa'))
