# Scale set: two scales (16x64 -> 32x128): the pyramid without its coarsest view.
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
scales = _base_.scales[1:]
model = dict(scales=scales)
train_pipeline = _base_.train_pipeline  # [load, MultiView (a view per scale), pack]
train_pipeline[1].num_views = train_pipeline[1].num_views[1:]
train_pipeline[1].transforms = train_pipeline[1].transforms[1:]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
