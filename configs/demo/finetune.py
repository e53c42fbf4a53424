# `make demo`, stages 4-5: the tiny recogniser (TextViT with 8x8 patches and the conv stem,
# like the demo's pretrained encoders, and a CTC head), fine-tuned on the labeled synthetic
# set and tested on eight held-out synthetic sets of words it never saw.
# Changes from the CPU fine-tuning config, each measured (README, "The demo"): the conv stem,
# without which the tiny ViT stays at the language-model plateau for thousands of steps; no
# MAERec augmentation (the rendered crops are distorted already; with it WAICS 1.7% vs 8.7%
# after 1400 steps); lower-case labels; the CTC head.
# tools/demo.py sets the data root, the initialisation (model.backbone.pretrained),
# iterations and schedule; the four initialisations share everything else, seed included.
# No validation during training: the budget is fixed and the last checkpoint is tested.
_base_ = ['../maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py']
data_root = 'work_dirs/demo/data/finetune'
test_sets = ['regular', 'curved', 'rotated', 'perspective', 'low_res', 'long_words',
             'unusual_fonts', 'held_out_fonts']
# The demo's labels are lower case (mixed case in the images): MMOCR's 36-class dictionary.
dictionary = dict(_base_.dictionary, dict_file='{{ fileDirname }}/../_base_/textrecog/dicts/'
                  'lower_english_digits.txt')
# The recognition head is CTC over the token grid's 16 columns, not MAERec's attention
# decoder: on this budget the attention decoder stays on its language-model plateau (loss
# 2.35 after 1000 steps on 30k labels; CTC 1.03 after 600; README, "The demo").
patch_size = 8
grid = (32 // patch_size, 128 // patch_size)  # (h, w) tokens of a 32x128 crop
# stem_channels_last: the stem on NHWC tensors, the same function and faster (as the pretraining)
model = dict(backbone=dict(patch_size=patch_size, stem='conv', stem_channels_last=True),
             decoder=dict(_delete_=True, type='TokenCTCDecoder', in_channels=96, grid=grid,
                          dictionary=dictionary))
train_pipeline = [dict(t, dictionary=dictionary) if t['type'] == 'FilterTextLabel' else t
                  for t in _base_.train_pipeline if t['type'] != 'RandomApply']
train_dataloader = dict(batch_size=32, dataset=dict(data_root=data_root, pipeline=train_pipeline))
test_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', pipeline=_base_.test_pipeline, datasets=[
        dict(type='OCRDataset', data_root=data_root, ann_file=f'textrecog_{name}.json',
             test_mode=True, pipeline=None) for name in test_sets]))
# Every crop's prediction as well (tools/demo.py points out_dir into the stage's work dir):
# the reading table's in/out-of-vocabulary split and bootstrap intervals need them.
test_evaluator = dict(type='MultiDatasetsEvaluator', dataset_prefixes=test_sets, metrics=[
    *_base_.recog_metrics,
    dict(type='TextPredictionDump', out_dir='predictions', dataset_prefixes=test_sets)])
val_dataloader = None
val_evaluator = None
val_cfg = None
optim_wrapper = dict(optimizer=dict(lr=2e-3))
