"""The configs the benchmark measures, per size (paths from the repository root), and the
batch each size is measured at by default (the configs' own: 16 paper per GPU, 64 demo)."""

CONFIGS = {
    'paper': {
        'mae': 'configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py',
        'lmim': 'configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
        'mnsp': 'configs/mnsp/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
    },
    'demo': {  # what `make demo` and the study pretrain: 4-layer 96-d, 8x8 patches, conv stem
        'mae': 'configs/demo/mae_pretrain.py',
        'lmim': 'configs/demo/lmim_pretrain.py',
        'mnsp': 'configs/demo/mnsp_pretrain.py',
    },
    'tiny': {
        'mae': 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py',
        'lmim': 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py',
        'mnsp': 'configs/mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    },
}
RECOGNIZER_CONFIGS = {'paper': 'configs/maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py',
                      'demo': 'configs/demo/finetune.py',
                      'tiny': 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'}
# MNSP's ablations: their steps are taken in turn with the three methods' (cost x MAE)
ABLATIONS = ('mim-only', 'nsp-only', 'nsp-mim', '2-scales', 'pixel-target')
ABLATION_CONFIGS = {
    'paper': {f'mnsp {a}': f'configs/mnsp/ablations/mnsp_{a}.py'
              for a in ABLATIONS + ('guidance', )},
    'demo': {f'mnsp {a}': f'configs/demo/ablations/mnsp_{a}.py' for a in ABLATIONS},
}
DEFAULT_BATCH = {'paper': 16, 'demo': 64, 'tiny': 16}
