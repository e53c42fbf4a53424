# Extra: an LMIM guidance view after the pyramid (MIM cross-attends to it, MLA aligns it).
_base_ = ['../mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
model = dict(use_guidance=True)
train_pipeline = _base_.train_pipeline  # [load, MultiView (a view per scale), pack]
train_pipeline[1].num_views.append(1)
train_pipeline[1].transforms.append(
    [dict(type='TextGuidanceAug', preset='official', scale=_base_.img_size[::-1])])
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
