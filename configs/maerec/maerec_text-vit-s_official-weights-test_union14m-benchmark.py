# The released MAERec-S fine-tuned checkpoint, evaluated as it was trained (the official
# fine-tuning fed BGR images normalised with ImageNet mean/std):
#   python tools/convert_checkpoint.py maerec_s_union14m.pth maerec_s_ours.pth
#   python tools/test.py \
#       configs/maerec/maerec_text-vit-s_official-weights-test_union14m-benchmark.py \
#       maerec_s_ours.pth
_base_ = ['maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py']
model = dict(
    backbone=dict(pretrained=None),
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=False))
