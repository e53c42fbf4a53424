# Fine-tuning from an LMIM checkpoint with the MAERec recipe (AdamW 4e-4 at 128, no layer
# decay), for a like-for-like comparison with the MAERec baseline.
_base_ = ['../maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py']
model = dict(backbone=dict(
    pretrained='work_dirs/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u/epoch_10.pth'))
