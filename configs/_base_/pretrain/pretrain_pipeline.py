# Unlabeled pretraining pipeline (MAERec): decode as RGB, resize to 32x128 (w, h), pack.
train_pipeline = [
    dict(type='LoadTextImage', channel_order='rgb'),
    dict(type='Resize', scale=(128, 32), keep_ratio=False),
    dict(type='PackInputs'),
]
