# LMIM's two views of each crop: the masked view (resize only) and the guidance view
# ("medium" augmentation, then resize). PackInputs makes `inputs` a list of the two.
train_pipeline = [
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1], transforms=[
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
        [dict(type='TextGuidanceAug', preset='medium'),
         dict(type='Resize', scale=(128, 32), keep_ratio=False)],
    ]),
    dict(type='PackInputs'),
]
