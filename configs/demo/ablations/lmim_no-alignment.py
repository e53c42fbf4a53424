# Study ablation: LMIM with the guidance view but without the [cls] alignment loss.
_base_ = ['../lmim_pretrain.py']
model = dict(align_weight=0.0)
