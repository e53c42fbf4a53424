# Fine-tuning from an MNSP checkpoint with the LMIM recipe (lr 2e-4 at 512, layer decay
# 0.75, drop-path 0.1, max length 25); only the student's `backbone.*` weights are used.
#   bash tools/dist_train.sh configs/mnsp/mnsp_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py 8
# The encoder (model.backbone.pretrained) defaults to the epoch_10 checkpoint of
# mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py in its default work dir.
_base_ = ['../lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py']
model = dict(backbone=dict(
    pretrained='work_dirs/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u/epoch_10.pth'))
