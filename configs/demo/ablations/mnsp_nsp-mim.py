# Study ablation: MNSP's NSP + MIM without the multi-scale linguistic alignment (MLA).
_base_ = ['../mnsp_pretrain.py']
model = dict(use_mla=False)
