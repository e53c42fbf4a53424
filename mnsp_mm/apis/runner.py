"""Config loading and runner building shared by ``tools/train.py`` and ``tools/test.py``.

One entry serves pretraining (``default_scope='mmpretrain'``) and fine-tuning / evaluation
(``default_scope='mmocr'``): the scope comes from the config itself.
"""
import argparse
import logging
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from ..utils.moved_configs import missing_base_error, moved_config_error
from .config_checks import CfgOptionsAction, merge_cfg_options
from .prepare import absolute_paths, add_default_hooks

SCOPES = ('mmpretrain', 'mmocr')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share (MMOCR/mmpretrain names)."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, e.g. train_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse and export ``LOCAL_RANK`` as torch's launchers expect.

    A ``config`` argument that does not exist ends the tool with one line (naming the new
    file when it is one of the old configs layout).
    """
    args = parser.parse_args()
    config = getattr(args, 'config', None)
    if config is not None and not osp.isfile(config):
        raise SystemExit(str(moved_config_error(config) or f'config not found: {config}'))
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def scope_of(cfg: Config) -> str:
    """The config's ``default_scope``, checked to be one we support."""
    scope = cfg.get('default_scope')
    if scope not in SCOPES:
        raise ValueError(f'config {cfg.filename}: default_scope must be one of {SCOPES} '
                         f'(mmpretrain for pretraining, mmocr for fine-tuning/evaluation), '
                         f'got {scope!r}')
    return scope


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none',
                amp: bool = False,
                resume: Optional[str] = None,
                auto_scale_lr: bool = False) -> Config:
    """Read a config and apply the command-line overrides the way MMOCR/mmpretrain tools do.

    Args:
        path: config file.
        cfg_options: ``--cfg-options`` key/values, merged last-wins.
        work_dir: ``--work-dir``; default ``work_dirs/<config name>``.
        launcher: ``none``, ``pytorch``, ``slurm`` or ``mpi``.
        amp: mixed precision: ``AmpOptimWrapper`` on a GPU, ``BF16OptimWrapper`` (bf16
            autocast) on a CPU.
        resume: ``'auto'`` (latest checkpoint in the work dir) or a checkpoint path.
        auto_scale_lr: scale the lr by the real total batch / ``auto_scale_lr.base_batch_size``.

    Returns:
        The config, ready for :func:`build_runner`.
    """
    if not osp.isfile(path):
        raise moved_config_error(path) or FileNotFoundError(f'config not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except FileNotFoundError as e:  # a ``_base_`` of the old configs layout names its new file
        raise missing_base_error(path, e) or e
    cfg.launcher = launcher
    if cfg_options:
        merge_cfg_options(cfg, cfg_options)
    scope_of(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    if amp:
        set_amp(cfg)
    if resume is not None:
        cfg.resume = True
        from ..engine import find_resumable_checkpoint  # newest that loads, skips explained
        cfg.load_from = find_resumable_checkpoint(cfg.work_dir) if resume == 'auto' else resume
    if auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError(f'{path}: --auto-scale-lr needs auto_scale_lr.base_batch_size '
                             'in the config')
        cfg.auto_scale_lr.enable = True
    add_default_hooks(cfg)  # the reliability hooks every run gets (prepare.DEFAULT_CUSTOM_HOOKS)
    absolute_paths(cfg)  # a dumped copy means the same files from any directory
    return cfg


def set_amp(cfg: Config) -> None:
    """``--amp``: mmengine's ``AmpOptimWrapper`` (dynamic loss scale) on a GPU; on a CPU, whose
    autocast is bf16 only and needs no loss scale, our ``BF16OptimWrapper``."""
    import torch
    current = cfg.optim_wrapper.get('type', 'OptimWrapper')
    wanted = 'AmpOptimWrapper' if torch.cuda.is_available() else 'BF16OptimWrapper'
    if current in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        print_log(f'mixed precision is already enabled in the config ({current})', 'current',
                  logging.WARNING)
        return
    if current != 'OptimWrapper':
        raise ValueError(f'--amp replaces optim_wrapper.type OptimWrapper, but the config sets '
                         f'{current!r}; set optim_wrapper.type={wanted} yourself')
    cfg.optim_wrapper.type = wanted
    if wanted == 'AmpOptimWrapper':
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(cfg: Config):
    """Build the config's runner the way MMOCR's and mmpretrain's tools do.

    ``runner_type`` from the registry if the config sets one (ours do: ``MnspRunner``),
    otherwise :class:`~mnsp_mm.apis.MnspRunner`, so a config without our runtime still gets
    the checks and additions of :mod:`mnsp_mm.apis.prepare`.

    Args:
        cfg: the config from :func:`load_config`.

    Returns:
        The runner; its ``train()`` / ``test()`` check the data of the loaders they use.
    """
    import mnsp_mm  # noqa: F401  (registration + checkpoint allow-list, whatever the config says)
    from mmengine.registry import RUNNERS

    from .mnsp_runner import MnspRunner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return MnspRunner.from_cfg(cfg)
