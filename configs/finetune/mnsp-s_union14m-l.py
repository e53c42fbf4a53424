# Fine-tuning from an MNSP checkpoint with the LMIM recipe (lr 2e-4 at 512, layer decay
# 0.75, drop-path 0.1, max length 25); only the student's `backbone.*` weights are used.
#   bash tools/dist_train.sh configs/finetune/mnsp-s_union14m-l.py 8 \
#       --cfg-options model.backbone.pretrained=work_dirs/mnsp_text-vit-s_union14m-u_10e/epoch_10.pth
_base_ = ['lmim-s_union14m-l.py']
model = dict(backbone=dict(pretrained='work_dirs/mnsp_text-vit-s_union14m-u_10e/epoch_10.pth'))
