# Study ablation: MNSP's next-scale prediction alone (no MIM, no MLA).
_base_ = ['../mnsp_pretrain.py']
model = dict(use_mim=False, use_mla=False)
