# Ablation: the teacher keeps its random initialisation (features of an untrained ViT-S).
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(target_generator=dict(checkpoint=None, random_init=True))
