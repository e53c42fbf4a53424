"""The configs the benchmark measures, per size (paths from the repository root)."""

CONFIGS = {
    'paper': {
        'mae': 'configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py',
        'lmim': 'configs/lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
        'mnsp': 'configs/mnsp/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
    },
    'tiny': {
        'mae': 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py',
        'lmim': 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py',
        'mnsp': 'configs/mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    },
}
RECOGNIZER_CONFIGS = {'paper': 'configs/maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py',
                      'tiny': 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'}
