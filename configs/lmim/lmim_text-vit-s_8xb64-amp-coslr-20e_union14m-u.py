# LMIM, 20 epochs (the paper's longer schedule; U14M-Benchmark 86.3 vs 84.7 at 10 epochs).
_base_ = ['lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py']
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0., by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
