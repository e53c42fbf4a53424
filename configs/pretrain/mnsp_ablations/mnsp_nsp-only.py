# Switch: next-scale prediction alone (the paper: NSP alone spreads attention onto background).
_base_ = ['../mnsp_text-vit-s_union14m-u_10e.py']
model = dict(use_mim=False, use_mla=False)
