# Ablation: the strong guidance-view augmentation preset (TextGuidanceAug's docstring and
# docs/lmim.md list how it differs from the official one).
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1], transforms=[
        _base_.masked_view,
        [dict(type='TextGuidanceAug', preset='strong', scale=(128, 32))],
    ]),
    dict(type='PackInputs'),
]))
