# The multi-scale views of each crop, built from `scales` ((h, w) pixels, coarse to full; the
# model reads the same list): mmpretrain's MultiView with one mmcv Resize per scale (area
# resampling when shrinking; mmcv takes (w, h)); PackInputs makes `inputs` a list.
scales = [(8, 32), (16, 64), (32, 128)]
train_pipeline = [
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1] * len(scales), transforms=[
        [dict(type='Resize', scale=(w, h), keep_ratio=False, interpolation='area')]
        for h, w in scales[:-1]
    ] + [[dict(type='Resize', scale=scales[-1][::-1], keep_ratio=False)]]),
    dict(type='PackInputs'),
]
