# Extra: an LMIM guidance view after the pyramid (MIM cross-attends to it, MLA aligns it).
_base_ = ['../mnsp_text-vit-s_union14m-u_10e.py']
model = dict(use_guidance=True)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1, 1, 1], transforms=[
        [dict(type='Resize', scale=(32, 8), keep_ratio=False, interpolation='area')],
        [dict(type='Resize', scale=(64, 16), keep_ratio=False, interpolation='area')],
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
        [dict(type='TextGuidanceAug', preset='official', scale=(128, 32))],
    ]),
    dict(type='PackInputs'),
]))
