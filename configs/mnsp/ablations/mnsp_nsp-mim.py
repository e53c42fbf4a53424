# Switch: NSP + MIM without the multi-scale linguistic alignment.
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(use_mla=False)
