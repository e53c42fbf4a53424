# Switch: NSP + MIM without the multi-scale linguistic alignment.
_base_ = ['../mnsp_text-vit-s_union14m-u_10e.py']
model = dict(use_mla=False)
