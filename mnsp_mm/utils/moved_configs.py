"""Where the configs of the old layout went, so an old path fails naming the new file.

Until issue #26 the configs were grouped by stage (``configs/pretrain/``,
``configs/finetune/``, each with its ``_base_``); they now follow the OpenMMLab layout: one
folder per algorithm (``configs/maerec/``, ``configs/lmim/``, ``configs/mnsp/``, ablations in
``<algorithm>/ablations/``) with names ``{algorithm}_{backbone}_{NxB}-{schedule}_{dataset}``,
and the shared bases in ``configs/_base_/pretrain/`` and ``configs/_base_/textrecog/``.
No stub is left at the old paths: our tools (and ``mim train``/``mim test``, which run them)
ask :func:`moved_config_error` when a config path does not exist.
"""
import os.path as osp
import re
from typing import Optional

#: Old config path -> new path, both relative to ``configs/``.
MOVED_CONFIGS = {
    'pretrain/mae_text-vit-s_union14m-u.py':
        'maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py',
    'pretrain/mae_text-vit-tiny_synth-cpu.py':
        'maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    'finetune/maerec-s_union14m-l.py': 'maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py',
    'finetune/maerec-s_union14m-l-lmdb.py':
        'maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l-lmdb.py',
    'finetune/maerec-s_common-benchmarks_test.py':
        'maerec/maerec_text-vit-s_test_common-benchmarks.py',
    'finetune/maerec-s_official-weights_test.py':
        'maerec/maerec_text-vit-s_official-weights-test_union14m-benchmark.py',
    'finetune/maerec_text-vit-tiny_synth-cpu.py':
        'maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py',
    'pretrain/lmim_text-vit-s_union14m-u_10e.py':
        'lmim/lmim_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
    'pretrain/lmim_text-vit-s_union14m-u_20e.py':
        'lmim/lmim_text-vit-s_8xb64-amp-coslr-20e_union14m-u.py',
    'pretrain/lmim_text-vit-tiny_synth-cpu.py':
        'lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    'finetune/lmim-s_union14m-l.py': 'lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py',
    'finetune/lmim-s_union14m-l_maerec-recipe.py':
        'lmim/lmim_text-vit-s_8xb128-coslr-10e_union14m-l_maerec-recipe.py',
    'finetune/lmim-s_chinese-benchmark.py':
        'lmim/lmim_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py',
    'pretrain/mnsp_text-vit-s_union14m-u_10e.py':
        'mnsp/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
    'pretrain/mnsp_text-vit-tiny_synth-cpu.py':
        'mnsp/mnsp_text-vit-tiny_1xb16-coslr-20iter_synth.py',
    'finetune/mnsp-s_union14m-l.py': 'mnsp/mnsp_text-vit-s_8xb64-ld-coslr-10e_union14m-l.py',
    'finetune/mnsp-s_union14m-l_maerec-recipe.py':
        'mnsp/mnsp_text-vit-s_8xb128-coslr-10e_union14m-l_maerec-recipe.py',
    'finetune/mnsp-s_chinese-benchmark.py':
        'mnsp/mnsp_text-vit-s_8xb64-ld-coslr-10e_chinese-benchmark.py',
    'pretrain/lmim_ablations/lmim_ca-sa.py': 'lmim/ablations/lmim_ca-sa.py',
    'pretrain/lmim_ablations/lmim_mask-0.6.py': 'lmim/ablations/lmim_mask-0.6.py',
    'pretrain/lmim_ablations/lmim_no-alignment.py': 'lmim/ablations/lmim_no-alignment.py',
    'pretrain/lmim_ablations/lmim_no-guidance.py': 'lmim/ablations/lmim_no-guidance.py',
    'pretrain/lmim_ablations/lmim_pixel-target.py': 'lmim/ablations/lmim_pixel-target.py',
    'pretrain/lmim_ablations/lmim_random-feature-target.py':
        'lmim/ablations/lmim_random-feature-target.py',
    'pretrain/lmim_ablations/lmim_strong-aug.py': 'lmim/ablations/lmim_strong-aug.py',
    'pretrain/lmim_ablations/lmim_weak-aug.py': 'lmim/ablations/lmim_weak-aug.py',
    'pretrain/mnsp_ablations/mnsp_2-scales.py': 'mnsp/ablations/mnsp_2-scales.py',
    'pretrain/mnsp_ablations/mnsp_guidance.py': 'mnsp/ablations/mnsp_guidance.py',
    'pretrain/mnsp_ablations/mnsp_mim-only.py': 'mnsp/ablations/mnsp_mim-only.py',
    'pretrain/mnsp_ablations/mnsp_nsp-mim.py': 'mnsp/ablations/mnsp_nsp-mim.py',
    'pretrain/mnsp_ablations/mnsp_nsp-only.py': 'mnsp/ablations/mnsp_nsp-only.py',
    'pretrain/mnsp_ablations/mnsp_pixel-target.py': 'mnsp/ablations/mnsp_pixel-target.py',
}
#: Old base folders -> new ones (relative to ``configs/``): their files kept their names.
MOVED_BASE_DIRS = {'pretrain/_base_/': '_base_/pretrain/', 'finetune/_base_/': '_base_/textrecog/'}


def moved_path(path: str) -> Optional[str]:
    """The new path of a config (or base file) of the old layout, spelled like ``path``.

    Args:
        path: a path as given, e.g. ``configs/pretrain/lmim_text-vit-s_union14m-u_10e.py``,
            an absolute one, or one inside an installed package's ``.mim/configs/``.

    Returns:
        ``path`` with its old part replaced by the new one, or None if it names no moved file.
    """
    norm = osp.normpath(path).replace(osp.sep, '/')
    for old, new in MOVED_CONFIGS.items():
        if norm == old or norm.endswith('/' + old):
            return norm[:len(norm) - len(old)] + new
    for old, new in MOVED_BASE_DIRS.items():
        start = ('/' + norm).rfind('/' + old)
        if start >= 0:
            return norm[:start] + new + norm[start + len(old):]
    return None


def moved_config_error(path: str, what: str = 'config') -> Optional[FileNotFoundError]:
    """A one-line error for a ``path`` that does not exist because it moved, or None.

    Args:
        path: the missing path.
        what: what the path is, for the message (``config``, ``base config``, a key).
    """
    new = moved_path(path)
    if new is None:
        return None
    return FileNotFoundError(f'{what} not found: {path}; the configs follow the OpenMMLab '
                             f'layout since issue #26, it is now {new}')


def missing_base_error(path: str, error: FileNotFoundError) -> Optional[FileNotFoundError]:
    """The error for config ``path`` whose ``_base_`` is an old-layout file, or None.

    Args:
        path: the config being read.
        error: mmengine's ``FileNotFoundError`` for the base (with its ``filename``, or
            ``file "<base>" does not exist``).
    """
    missing = error.filename or re.search(r'file "(.+)" does not exist', str(error))
    if missing is None:
        return None
    base = missing if isinstance(missing, str) else missing.group(1)
    return moved_config_error(base, f'{path}: base config')
