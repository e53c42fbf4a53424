# Study ablation: LMIM without the guidance view (masked view only: the decoder has no
# cross-attention and there is no [cls] alignment), so MIM on the teacher's features.
_base_ = ['../lmim_pretrain.py']
model = dict(use_guidance=False)
train_pipeline = [_base_.train_pipeline[0], *_base_.masked_view, _base_.train_pipeline[-1]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
