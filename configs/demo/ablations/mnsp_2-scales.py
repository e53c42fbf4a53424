# Study ablation: MNSP on two scales (16x64 -> 32x128 px, 2x8 -> 4x16 tokens): the pyramid
# without its coarsest 1x4 grid.
_base_ = ['../mnsp_pretrain.py']
scales = _base_.scales[1:]
model = dict(scales=scales)
# [load, MultiView (a view per scale, coarse first), pack], without the first view
train_pipeline = [_base_.train_pipeline[0],
                  dict(_base_.train_pipeline[1], num_views=_base_.train_pipeline[1].num_views[1:],
                       transforms=_base_.train_pipeline[1].transforms[1:]),
                  _base_.train_pipeline[2]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
