# The released MAERec-S fine-tuned checkpoint, after `tools/convert_checkpoint.py
# maerec_s_union14m.pth maerec_s_ours.pth --full-recognizer`, evaluated as trained: the
# official fine-tuning fed BGR images normalised with ImageNet mean/std.
_base_ = ['maerec-s_union14m-l.py']
model = dict(
    backbone=dict(pretrained=None),
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=False))
