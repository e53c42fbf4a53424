# `make demo`, stage 3: LMIM at CPU size, from the demo's MAE teacher (tools/demo.py sets
# model.target_generator.checkpoint), 8x8 patches like the demo's MAE.
_base_ = ['../lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py']
patch_size = 8
stem = 'conv'  # a small CNN as patch embedding (ConvStem): see configs/demo/finetune.py
# the stem's convolutions on NHWC tensors: the same function, 1.3x the images/s of a
# demo-size step here; validation reading: no measurable difference (docs/performance.md)
stem_channels_last = True
grid = (_base_.img_size[0] // patch_size, _base_.img_size[1] // patch_size)
model = dict(backbone=dict(patch_size=patch_size, stem=stem,
                           stem_channels_last=stem_channels_last),
             neck=dict(grid=grid),
             target_generator=dict(backbone=dict(patch_size=patch_size, stem=stem,
                                                 stem_channels_last=stem_channels_last)))
# The guidance view costs about 1.3 ms per crop (OpenCV ops, docs/performance.md); no
# dataloader workers: on 2 cores they slowed the step when the view cost 20 ms (1.9 vs 1.36 s).
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
