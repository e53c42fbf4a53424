# Tiny MAE for a CPU: the same code as the paper config, a 4-layer 96-d ViT and a 1-block
# decoder, on the project's synthetic crops (render them with tools/render_synth.py or
# `make demo`). Used by the smoke demo and the tests.
_base_ = [
    '../_base_/pretrain/mae_text-vit-s.py',
    '../_base_/pretrain/pretrain_pipeline.py',
    '../_base_/pretrain/synth-cpu.py',
]
tiny_arch = dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
model = dict(
    backbone=dict(arch=tiny_arch),
    neck=dict(embed_dim=96, decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=2),
)
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
