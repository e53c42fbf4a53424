# MAERec-S recogniser: TextViT-S/4 (32x128, 8x32 tokens + cls) and the NRTR-style decoder
# (6 layers, d_model 384, 8 heads, d_k = d_v = 48, d_inner 1536) attending to all tokens.
dictionary = dict(
    type='Dictionary',
    dict_file='{{ fileDirname }}/dicts/english_digits_symbols_space.txt',
    with_padding=True,
    with_unknown=True,
    same_start_end=True,
    with_start=True,
    with_end=True)

model = dict(
    type='TextMAERec',  # ours; MMOCR dev-1.x owns 'MAERec'
    # Match what the backbone saw in pretraining: MMOCR loads BGR, our MAE/LMIM/MNSP
    # pretraining used RGB normalised with mean = std = 0.5.
    data_preprocessor=dict(type='TextRecogDataPreprocessor', mean=[127.5] * 3,
                           std=[127.5] * 3, bgr_to_rgb=True),
    backbone=dict(type='TextViT', arch='small', img_size=(32, 128), patch_size=4,
                  learnable_pos=True, tuple_output=False, drop_path_rate=0.1),
    decoder=dict(
        type='TextMAERecDecoder',
        n_layers=6,
        d_embedding=384,
        n_head=8,
        d_model=384,
        d_inner=384 * 4,
        d_k=48,
        d_v=48,
        postprocessor=dict(type='AttentionPostprocessor'),
        module_loss=dict(type='CEModuleLoss', reduction='mean', ignore_first_char=True),
        max_seq_len=48,
        dictionary=dictionary),
)

# Bad training samples are skipped and counted, not fatal (docs/robustness.md): labels are
# checked first (cheap; on the annotation entry, before LoadOCRAnnotations, which would
# crash on an entry without a text), then LoadTextImage decodes BGR like LoadImageFromFile
# but also skips missing, empty, truncated, undecodable and oversized files. max_len=None:
# MnspRunner sets it to model.decoder.max_seq_len - 1. Set fail_fast=True on both to stop
# at the first bad sample.
train_pipeline = [
    dict(type='FilterTextLabel', dictionary=dictionary, max_len=None, long_label='skip'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='LoadTextImage', channel_order='bgr', min_size=2),
    dict(type='Resize', scale=(128, 32)),
    dict(type='RandomApply', prob=0.5, transforms=[
        dict(type='RandomChoice', transforms=[
            dict(type='RandomRotate', max_angle=15),
            dict(type='TorchVisionWrapper', op='RandomAffine', degrees=15,
                 translate=(0.3, 0.3), scale=(0.5, 2.), shear=(-45, 45)),
            dict(type='TorchVisionWrapper', op='RandomPerspective', distortion_scale=0.5, p=1),
        ]),
    ]),
    dict(type='RandomApply', prob=0.25, transforms=[
        dict(type='PyramidRescale'),
        dict(type='mmdet.Albu', transforms=[
            dict(type='GaussNoise', var_limit=(20, 20), p=0.5),
            dict(type='MotionBlur', blur_limit=7, p=0.5),
        ]),
    ]),
    dict(type='RandomApply', prob=0.25, transforms=[
        dict(type='TorchVisionWrapper', op='ColorJitter', brightness=0.5, saturation=0.5,
             contrast=0.5, hue=0.1),
    ]),
    dict(type='PackTextRecogInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 32)),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
