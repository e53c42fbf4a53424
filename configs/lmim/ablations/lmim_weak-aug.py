# Ablation: the weak guidance-view augmentation preset (TextGuidanceAug's docstring and
# docs/lmim.md list how it differs from the official one).
_base_ = ['../lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
train_pipeline = _base_.train_pipeline
train_pipeline[1].transforms[1][0].preset = 'weak'  # MultiView: [masked, guidance] views
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
