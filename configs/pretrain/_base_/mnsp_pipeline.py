# The multi-scale views of each crop: mmpretrain's MultiView with one mmcv Resize per scale
# (area resampling when shrinking), coarse to full; PackInputs makes `inputs` a list.
train_pipeline = [
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1, 1], transforms=[
        [dict(type='Resize', scale=(32, 8), keep_ratio=False, interpolation='area')],
        [dict(type='Resize', scale=(64, 16), keep_ratio=False, interpolation='area')],
        [dict(type='Resize', scale=(128, 32), keep_ratio=False)],
    ]),
    dict(type='PackInputs'),
]
