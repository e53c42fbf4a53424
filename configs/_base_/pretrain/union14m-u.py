# Union14M-U (unlabeled, LMDBs) for pretraining; the pipeline comes from the algorithm's
# pipeline file: train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline)).
data_root = 'data/Union14M-U'
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='UnlabeledTextDataset',
                 sources=[dict(type='lmdb', path=data_root)]))
