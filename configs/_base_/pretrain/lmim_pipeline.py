# LMIM's two views of each crop, as the official code (lmim_pretrain/main_pretrain.py and
# datasets/lmdb_dataset.py): the masked view is a PIL bicubic resize to 32x128; the guidance
# view is TextGuidanceAug's official preset (imgaug SomeOf(3+) of ten ops on the decoded crop,
# PIL bicubic resize to 32x128, ColorJitter p=0.8, RandomGrayscale p=0.2).
# PackInputs makes `inputs` a list of the two.
masked_view = [dict(type='Resize', scale=(128, 32), keep_ratio=False, backend='pillow',
                    interpolation='bicubic')]
train_pipeline = [
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='MultiView', num_views=[1, 1], transforms=[
        masked_view,
        [dict(type='TextGuidanceAug', preset='official', scale=(128, 32))],
    ]),
    dict(type='PackInputs'),
]
