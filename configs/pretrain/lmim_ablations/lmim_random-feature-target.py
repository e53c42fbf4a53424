# Ablation: the teacher keeps its random initialisation (features of an untrained ViT-S).
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
model = dict(target_generator=dict(checkpoint=None, random_init=True))
