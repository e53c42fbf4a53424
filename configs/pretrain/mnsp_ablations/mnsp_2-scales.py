# Scale set: two scales (16x64 -> 32x128).
_base_ = ['../mnsp_text-vit-s_union14m-u_10e.py']
model = dict(scales=[(16, 64), (32, 128)])
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1], transforms=[
        [dict(type='Resize', scale=(64, 16), keep_ratio=False, interpolation='area')],
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
    ]),
    dict(type='PackInputs'),
]))
