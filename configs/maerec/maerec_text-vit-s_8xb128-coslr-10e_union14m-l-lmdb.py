# MAERec-S fine-tuning on Union14M-L stored as LMDBs (same recipe as
# maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py; validation and test stay the JSON
# benchmarks). Check the download with
#   python tools/prepare_dataset.py union14m --check
# For LMIM / MNSP, put this file's train_dataloader into their configs the same way.
_base_ = ['maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py',
          '../_base_/textrecog/datasets/union14m_lmdb.py']
train_dataloader = dict(dataset=dict(datasets=_base_.union14m_lmdb_train))
