# Study ablation: MNSP's masked reconstruction alone (with the multi-scale context in its
# decoder; no NSP, no MLA).
_base_ = ['../mnsp_pretrain.py']
model = dict(use_nsp=False, use_mla=False)
