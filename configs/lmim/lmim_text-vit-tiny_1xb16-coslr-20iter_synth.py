# Tiny LMIM for a CPU on the synthetic crops: the paper config's code with a 4-layer 96-d
# student, a 1-block 64-d decoder and a tiny MAE teacher (e.g. the demo's or
# configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py's checkpoint).
_base_ = [
    '../_base_/pretrain/lmim_text-vit-s.py',
    '../_base_/pretrain/lmim_pipeline.py',
    '../_base_/pretrain/synth-cpu.py',
]
tiny_arch = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
teacher_checkpoint = 'work_dirs/mae_text-vit-tiny_1xb16-coslr-20iter_synth/iter_20.pth'
model = dict(
    backbone=dict(arch=dict(_delete_=True, **tiny_arch)),
    neck=dict(in_dims=96, embed_dims=64, depth=1, num_heads=2, ffn_dims=256, out_dims=96),
    target_generator=dict(checkpoint=teacher_checkpoint,
                          backbone=dict(arch=dict(_delete_=True, **tiny_arch))),
)
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
