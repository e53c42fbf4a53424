# Fine-tuning from an MNSP checkpoint with the MAERec recipe, like-for-like with the baseline.
_base_ = ['maerec-s_union14m-l.py']
model = dict(backbone=dict(pretrained='work_dirs/mnsp_text-vit-s_union14m-u_10e/epoch_10.pth'))
