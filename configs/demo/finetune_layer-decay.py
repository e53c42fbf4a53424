# The study's extra fine-tuning row: configs/demo/finetune.py with layer-wise lr decay 0.75
# (the LMIM paper's recipe for pretrained ViTs: a layer's lr is 0.75x the one above it; the
# head gets the full lr). Every other row fine-tunes with the plain recipe: on a validation
# split of its own (seed 777; docs/study.md) this recipe took the MAE-initialised CTC
# recogniser from 47.7% to 6.0% WAICS on regular crops. The demo used it for every
# pretrained encoder until 2026-12-01, when it was chosen for the old attention decoder.
_base_ = ['./finetune.py']
optim_wrapper = dict(constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
                     paramwise_cfg=dict(layer_decay_rate=0.75))
