# MAERec-S fine-tuning on Union14M-L (the MAERec recipe): TextViT-S/4 from a pretraining
# checkpoint + 6-layer Transformer decoder, AdamW 4e-4 (batch 128/GPU), 10 epochs cosine.
# Validation: the six common benchmarks; test: the Union14M-Benchmark subsets.
#   bash tools/dist_train.sh configs/maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py 8
# The encoder (model.backbone.pretrained) defaults to the epoch_20 checkpoint of
# mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py in its default work dir.
_base_ = [
    '../_base_/textrecog/default_runtime.py',
    '../_base_/textrecog/maerec_vit-s.py',
    '../_base_/textrecog/schedule_adamw_cos_10e.py',
    '../_base_/textrecog/evaluation.py',
    '../_base_/textrecog/datasets/common_benchmarks.py',
    '../_base_/textrecog/datasets/union14m.py',
]
model = dict(backbone=dict(
    pretrained='work_dirs/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u/epoch_20.pth'))

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=_base_.union14m_train,
                 pipeline=_base_.train_pipeline))
_eval_loader = dict(batch_size=128, num_workers=4, persistent_workers=True, pin_memory=True,
                    drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False))
val_dataloader = dict(_eval_loader, dataset=dict(
    type='ConcatDataset', datasets=_base_.common_benchmarks, pipeline=_base_.test_pipeline))
test_dataloader = dict(_eval_loader, dataset=dict(
    type='ConcatDataset', datasets=_base_.union14m_benchmark, pipeline=_base_.test_pipeline))
val_evaluator = dict(type='MultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                     dataset_prefixes=_base_.common_benchmark_prefixes)
test_evaluator = dict(type='MultiDatasetsEvaluator', metrics=_base_.recog_metrics,
                      dataset_prefixes=_base_.union14m_benchmark_prefixes)
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(save_best='IC15/recog/word_acc_ignore_case_symbol',
                                     rule='greater'))
