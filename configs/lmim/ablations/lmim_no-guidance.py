# Ablation: no guidance view (masked view only; decoder without cross-attention, no alignment).
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(use_guidance=False)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False),
    dict(type='PackInputs'),
]))
