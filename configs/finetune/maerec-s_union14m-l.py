# MAERec-S fine-tuning on Union14M-L (the MAERec recipe): TextViT-S/4 from a pretraining
# checkpoint + 6-layer Transformer decoder, AdamW 4e-4 (batch 128/GPU), 10 epochs cosine.
# Validation: the six common benchmarks; test: the Union14M-Benchmark subsets.
#   bash tools/dist_train.sh configs/finetune/maerec-s_union14m-l.py 8 \
#       --cfg-options model.backbone.pretrained=work_dirs/mae_text-vit-s_union14m-u/epoch_20.pth
_base_ = [
    '_base_/default_runtime.py',
    '_base_/maerec_vit-s.py',
    '_base_/schedule_adamw_cos_10e.py',
    '_base_/evaluation.py',
    '_base_/datasets/common_benchmarks.py',
    '_base_/datasets/union14m.py',
]
model = dict(backbone=dict(pretrained='work_dirs/mae_text-vit-s_union14m-u/epoch_20.pth'))

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
