# Ablation: the strong guidance-view augmentation preset.
_base_ = ['../lmim_text-vit-s_union14m-u_10e.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1], transforms=[
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
        [dict(type='TextGuidanceAug', preset='strong'),
         dict(type='Resize', scale=(128, 32), keep_ratio=False)],
    ]),
    dict(type='PackInputs'),
]))
