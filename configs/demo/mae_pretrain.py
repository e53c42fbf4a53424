# `make demo`, stage 2: MAE (the MAERec baseline recipe, and the frozen teacher of LMIM/MNSP)
# at CPU size. The tiny config with 8x8 patches (4x16 tokens) so a 2-core CPU pretrains it in
# minutes; tools/demo.py sets the data, iterations and schedule of its profile.
_base_ = ['../maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py']
patch_size = 8
stem = 'conv'  # a small CNN as patch embedding (ConvStem): see configs/demo/finetune.py
# the stem's convolutions on NHWC tensors: the same function, 1.3x the images/s of a
# demo-size step here; validation reading: no measurable difference (docs/performance.md)
stem_channels_last = True
grid = (_base_.img_size[0] // patch_size, _base_.img_size[1] // patch_size)
model = dict(backbone=dict(patch_size=patch_size, stem=stem,
                           stem_channels_last=stem_channels_last),
             neck=dict(grid=grid, patch_size=patch_size),
             head=dict(patch_size=patch_size))
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
