# Tiny MNSP for a CPU on the synthetic crops: the paper config's code with a 4-layer 96-d
# student, 1-block 64-d decoders and a tiny MAE teacher.
_base_ = [
    '../_base_/pretrain/mnsp_text-vit-s.py',  # with its pipeline (_base_/mnsp_pipeline.py)
    '../_base_/pretrain/synth-cpu.py',
]
tiny_arch = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
tiny_decoder = dict(in_dims=96, embed_dims=64, depth=1, num_heads=2, ffn_dims=256, out_dims=96)
teacher_checkpoint = 'work_dirs/mae_text-vit-tiny_1xb16-coslr-20iter_synth/iter_20.pth'
model = dict(
    backbone=dict(arch=dict(_delete_=True, **tiny_arch)),
    neck=tiny_decoder,
    nsp_neck=tiny_decoder,
    target_generator=dict(checkpoint=teacher_checkpoint,
                          backbone=dict(arch=dict(_delete_=True, **tiny_arch))),
)
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
