# `make demo`, stage 3: LMIM at CPU size, from the demo's MAE teacher (tools/demo.py sets
# model.target_generator.checkpoint), 8x8 patches like the demo's MAE.
_base_ = ['../pretrain/lmim_text-vit-tiny_synth-cpu.py']
patch_size = 8
grid = (4, 16)
model = dict(backbone=dict(patch_size=patch_size),
             neck=dict(grid=grid),
             target_generator=dict(backbone=dict(patch_size=patch_size)))
# the guidance view's augmentation costs ~20 ms per crop: two workers prepare batches while
# the model steps (measured in the demo: 1.36 s/iteration at batch 64 without them)
train_dataloader = dict(batch_size=64, num_workers=2, persistent_workers=True)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
