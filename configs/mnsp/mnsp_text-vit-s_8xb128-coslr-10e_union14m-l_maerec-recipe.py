# Fine-tuning from an MNSP checkpoint with the MAERec recipe, like-for-like with the baseline.
_base_ = ['../maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py']
model = dict(backbone=dict(
    pretrained='work_dirs/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u/epoch_10.pth'))
