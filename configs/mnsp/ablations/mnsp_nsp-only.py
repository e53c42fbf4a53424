# Switch: next-scale prediction alone (the paper: NSP alone spreads attention onto background).
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(use_mim=False, use_mla=False)
