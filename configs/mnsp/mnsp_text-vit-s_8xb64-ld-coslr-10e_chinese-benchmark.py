# MNSP fine-tuning in LMIM's Chinese setting (7937 classes, labels up to 40 characters), the
# same recipe and data as ../lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py;
# see that file for the dictionary.
_base_ = ['../lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py']
model = dict(backbone=dict(pretrained='work_dirs/mnsp_text-vit-s_chinese/epoch_10.pth'))
