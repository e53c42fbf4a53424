"""The configs the benchmark measures, per size (paths from the repository root)."""

CONFIGS = {
    'paper': {
        'mae': 'configs/pretrain/mae_text-vit-s_union14m-u.py',
        'lmim': 'configs/pretrain/lmim_text-vit-s_union14m-u_10e.py',
        'mnsp': 'configs/pretrain/mnsp_text-vit-s_union14m-u_10e.py',
    },
    'tiny': {
        'mae': 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py',
        'lmim': 'configs/pretrain/lmim_text-vit-tiny_synth-cpu.py',
        'mnsp': 'configs/pretrain/mnsp_text-vit-tiny_synth-cpu.py',
    },
}
RECOGNIZER_CONFIGS = {'paper': 'configs/finetune/maerec-s_union14m-l.py',
                      'tiny': 'configs/finetune/maerec_text-vit-tiny_synth-cpu.py'}
