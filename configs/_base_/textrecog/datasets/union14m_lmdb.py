# Union14M-L as LMDBs (the layout the LMIM code reads: Union14M-L-lmdb/train/train_<split>,
# Union14M-L-lmdb/val/val_annos; keys num-samples, image-%09d, label-%09d), read by
# LabeledLMDBDataset through the robust LoadTextImage of the training pipeline.
union14m_lmdb_root = 'data/Union14M-L-lmdb'
union14m_lmdb_train = [
    dict(type='LabeledLMDBDataset', data_root=union14m_lmdb_root, ann_file=f'train/train_{split}',
         pipeline=None)
    for split in ('challenging', 'hard', 'medium', 'normal', 'easy')
]
union14m_lmdb_val = [dict(type='LabeledLMDBDataset', data_root=union14m_lmdb_root,
                          ann_file='val/val_annos', test_mode=True, pipeline=None)]
