# LMIM's Chinese setting: fine-tune on the Chinese benchmark (scene) with 7937 classes (the
# benchmark's 7934 characters + start/end, padding, unknown) and labels up to 40 characters,
# with the LMIM recipe (lr 2e-4 at 512, layer decay 0.75, drop-path 0.1).
# The dictionary cannot be shipped (no offline source has it): make it from the benchmark's
# character list (README "The Chinese setting") and put it at chinese_dict_file, or
#   --cfg-options model.decoder.dictionary.dict_file=PATH
# (the label filter follows the decoder's dictionary). The backbone comes from a pretraining
# on Chinese crops (the LMIM authors use their UCTI-11M): run
# configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py with its data sources replaced and
# --work-dir work_dirs/lmim_text-vit-s_chinese, or set model.backbone.pretrained.
_base_ = ['lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py',
          '../_base_/textrecog/datasets/chinese_benchmark.py']
chinese_dict_file = 'data/chinese_benchmark/benchmark_dict.txt'
model = dict(
    backbone=dict(pretrained='work_dirs/lmim_text-vit-s_chinese/epoch_10.pth'),
    decoder=dict(max_seq_len=40, dictionary=dict(dict_file=chinese_dict_file)))
# labels are checked against the decoder's dictionary (MnspRunner fills it in)
train_pipeline = [dict(t, dictionary=None) if t['type'] == 'FilterTextLabel' else t
                  for t in _base_.train_pipeline]
train_dataloader = dict(dataset=dict(datasets=_base_.chinese_benchmark_train,
                                     pipeline=train_pipeline))
# LMDB crops are decoded by LoadTextImage (LoadImageFromFile reads files only)
test_pipeline = [dict(type='LoadTextImage', channel_order='bgr', fail_fast=True)
                 ] + _base_.test_pipeline[1:]
val_dataloader = dict(dataset=dict(datasets=_base_.chinese_benchmark_val,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(datasets=_base_.chinese_benchmark_test,
                                    pipeline=test_pipeline))
val_evaluator = dict(dataset_prefixes=['scene_val'])
test_evaluator = dict(dataset_prefixes=['scene_test'])
default_hooks = dict(checkpoint=dict(save_best='scene_val/recog/word_acc', rule='greater'))
