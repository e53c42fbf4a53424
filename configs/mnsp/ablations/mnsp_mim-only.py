# Switch: masked reconstruction alone (with the multi-scale context in its decoder).
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(use_nsp=False, use_mla=False)
