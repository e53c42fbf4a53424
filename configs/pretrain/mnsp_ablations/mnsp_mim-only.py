# Switch: masked reconstruction alone (with the multi-scale context in its decoder).
_base_ = ['../mnsp_text-vit-s_union14m-u_10e.py']
model = dict(use_nsp=False, use_mla=False)
