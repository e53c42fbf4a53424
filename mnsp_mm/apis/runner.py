"""Config loading and runner building shared by ``tools/train.py`` and ``tools/test.py``.

One entry serves pretraining (``default_scope='mmpretrain'``) and fine-tuning / evaluation
(``default_scope='mmocr'``): the scope comes from the config itself.
"""
import argparse
import json
import logging
import os
import os.path as osp
import re
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

SCOPES = ('mmpretrain', 'mmocr')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share (MMOCR/mmpretrain names)."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse and export ``LOCAL_RANK`` as torch's launchers expect."""
    args = parser.parse_args()
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
        amp: switch ``OptimWrapper`` to ``AmpOptimWrapper`` (needs a GPU).
        resume: ``'auto'`` (latest checkpoint in the work dir) or a checkpoint path.
        auto_scale_lr: scale the lr by the real total batch / ``auto_scale_lr.base_batch_size``.

    Returns:
        The config, ready for :func:`build_runner`.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config not found: {path}')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope_of(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    if amp:
        import torch
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a CUDA device (mmengine AmpOptimWrapper); '
                               'none is available here')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config', 'current', logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if resume is not None:
        cfg.resume = True
        cfg.load_from = None if resume == 'auto' else resume
    if auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError(f'{path}: --auto-scale-lr needs auto_scale_lr.base_batch_size '
                             'in the config')
        cfg.auto_scale_lr.enable = True
    add_default_hooks(cfg)  # the reliability hooks every run gets: declared once, below
    return cfg


# ----------------------------------------------------------------- early checks
#: How much of a training annotation file the dictionary check reads (labels are sampled
#: from its start, so the check stays cheap on multi-GB files); ``data_check`` overrides.
DATA_CHECK_DEFAULTS = dict(max_scan_bytes=8 << 20, max_unknown_label_ratio=0.05)


def _is_remote(path: str) -> bool:
    return '://' in str(path)


def _datasets(cfg: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset config)`` of a dataset and of the ones it wraps."""
    if not isinstance(cfg, dict):
        return
    yield key, cfg
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _datasets(sub, f'{key}.datasets[{i}]')
    if isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'], f'{key}.dataset')


def _joined(data_root: str, path: str) -> str:
    return path if osp.isabs(path) or not data_root else osp.join(data_root, path)


def _missing(key: str, value, path: str) -> FileNotFoundError:
    shown = f'{value!r}' if path == value else f'{value!r} (resolved to {path!r})'
    return FileNotFoundError(f'{key}={shown} does not exist; fix the path in the config or '
                             f'with --cfg-options {key}=...')


def check_data_paths(cfg: Config, loaders: Sequence[str]) -> None:
    """Every data root, annotation file and unlabeled source the runs's loaders name exists.

    Args:
        cfg: the config.
        loaders: which of ``train``/``val``/``test`` will be used.

    Raises:
        FileNotFoundError: naming the config key and its value.
    """
    for name in loaders:
        loader = cfg.get(f'{name}_dataloader')
        if not isinstance(loader, dict):
            continue
        for key, ds in _datasets(loader.get('dataset'), f'{name}_dataloader.dataset'):
            root = ds.get('data_root') or ''
            if root and not _is_remote(root) and not osp.isdir(root):
                raise _missing(f'{key}.data_root', root, root)
            ann = ds.get('ann_file')
            if ann and not _is_remote(ann) and not osp.exists(_joined(root, ann)):
                raise _missing(f'{key}.ann_file', ann, _joined(root, ann))
            sources = ds.get('sources') or []
            for i, src in enumerate([sources] if isinstance(sources, (str, dict)) else sources):
                path = src.get('path') if isinstance(src, dict) else src
                if isinstance(path, str) and not _is_remote(path) and \
                        not osp.exists(_joined(root, path)):
                    sub = '.path' if isinstance(src, dict) else ''
                    raise _missing(f'{key}.sources[{i}]{sub}', path, _joined(root, path))


_TEXT_FIELD = re.compile(r'"text"\s*:\s*("(?:[^"\\]|\\.)*")')


def sample_labels(ann_file: str, max_bytes: int) -> List[str]:
    """Text labels from the first ``max_bytes`` of an MMOCR textrecog JSON (no full parse)."""
    with open(ann_file, 'r', encoding='utf-8', errors='replace') as f:
        head = f.read(max_bytes)
    return [json.loads(m.group(1)) for m in _TEXT_FIELD.finditer(head)]


def check_dictionary_coverage(cfg: Config) -> None:
    """The recogniser's dictionary covers the training labels (sampled), or a clear error.

    Without an unknown token any uncovered character is an error (MMOCR would crash on it
    mid-run); with one, more than ``data_check.max_unknown_label_ratio`` of the sampled labels
    needing ``<UKN>`` means the dictionary is the wrong one.

    Raises:
        ValueError: naming ``model.decoder.dictionary.dict_file`` and the characters.
    """
    dictionary = cfg.get('model', {}).get('decoder', {}).get('dictionary')
    loader = cfg.get('train_dataloader')
    if not isinstance(dictionary, dict) or not isinstance(loader, dict):
        return
    opts = {**DATA_CHECK_DEFAULTS, **cfg.get('data_check', {})}
    from ..datasets.labels import dictionary_chars
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmocr'):
        chars = dictionary_chars(dict(dictionary))
    for key, ds in _datasets(loader.get('dataset'), 'train_dataloader.dataset'):
        ann = ds.get('ann_file')
        if not ann or _is_remote(ann) or not str(ann).endswith('.json'):
            continue
        path = _joined(ds.get('data_root') or '', ann)
        labels = sample_labels(path, opts['max_scan_bytes'])
        bad = [t for t in labels if set(t) - chars]
        if not bad:
            continue
        missing = ''.join(sorted({c for t in bad for c in t} - chars))
        ratio = len(bad) / len(labels)
        if not dictionary.get('with_unknown') or ratio > opts['max_unknown_label_ratio']:
            raise ValueError(
                f'model.decoder.dictionary.dict_file={dictionary.get("dict_file")!r} does not '
                f'cover the labels of {key}.ann_file={ann!r}: {len(bad)} of {len(labels)} '
                f'sampled labels ({ratio:.1%}) use characters outside it: {missing[:80]!r} '
                f'(with_unknown={dictionary.get("with_unknown", False)}, allowed ratio '
                f'data_check.max_unknown_label_ratio={opts["max_unknown_label_ratio"]})')


def fill_label_max_len(cfg: Config) -> None:
    """``FilterTextLabel(max_len=None)`` in the train pipeline -> ``decoder.max_seq_len - 1``."""
    max_seq_len = cfg.get('model', {}).get('decoder', {}).get('max_seq_len')
    loader = cfg.get('train_dataloader')
    if not max_seq_len or not isinstance(loader, dict):
        return
    for _, ds in _datasets(loader.get('dataset'), ''):
        for step in ds.get('pipeline') or []:
            if isinstance(step, dict) and step.get('type') == 'FilterTextLabel' and \
                    step.get('max_len') is None:
                step['max_len'] = int(max_seq_len) - 1  # one position for the end token


#: Hooks every run gets (also listed in both default runtimes); a config that sets its own
#: ``custom_hooks`` keeps them, :func:`add_default_hooks` appends the missing ones.
DEFAULT_CUSTOM_HOOKS = ('NonFiniteLossHook', 'DataHealthHook', 'RNGStateHook')


def add_default_hooks(cfg: Config) -> None:
    """Append the :data:`DEFAULT_CUSTOM_HOOKS` a config's ``custom_hooks`` lacks."""
    hooks = list(cfg.get('custom_hooks') or [])
    have = {h.get('type') if isinstance(h, dict) else type(h).__name__ for h in hooks}
    cfg.custom_hooks = hooks + [dict(type=t) for t in DEFAULT_CUSTOM_HOOKS if t not in have]


def prepare_config(cfg: Config, loaders: Sequence[str] = ('train', 'val')) -> Config:
    """The checks and additions every run gets before the runner is built.

    Fails fast (before any model, dataset or worker is built) on missing data paths and on a
    dictionary that cannot cover the training labels; fills the label length limit from the
    decoder; makes the train loader report skipped samples (see
    :mod:`mnsp_mm.engine.data_health`). Model-level checks (patch size, scales, widths,
    teacher checkpoint) run when the runner builds the model, before the data.

    Args:
        cfg: the config (modified in place).
        loaders: the dataloaders this run uses (``train``, ``val``, ``test``).

    Returns:
        ``cfg``.
    """
    from ..engine import wrap_collate
    check_data_paths(cfg, loaders)
    add_default_hooks(cfg)
    if 'train' in loaders:
        check_dictionary_coverage(cfg)
        fill_label_max_len(cfg)
        if isinstance(cfg.get('train_dataloader'), dict):
            wrap_collate(cfg.train_dataloader)
    return cfg


def init_cpu_dist(cfg: Config) -> None:
    """Start the process group of a ``--launcher pytorch`` run on a machine without GPUs.

    mmengine's ``init_dist`` always calls ``torch.cuda.set_device``, which fails without a
    CUDA driver, and its default DDP wrapper passes ``device_ids=[LOCAL_RANK]``, which torch
    refuses for CPU modules. On the CPU we initialise the group (gloo: nccl needs GPUs)
    before the runner does, and give the wrapper ``device_ids=None``.
    """
    import torch
    import torch.distributed as dist
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available() or \
            dist.is_initialized():
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    if dist_cfg.pop('backend', 'gloo') != 'gloo':
        print_log('no CUDA device: using the gloo backend for distributed training',
                  'current', logging.WARNING)
    dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']), **dist_cfg)
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def build_runner(cfg: Config, loaders: Sequence[str] = ('train', 'val')):
    """Check the config (:func:`prepare_config`) and build the runner.

    Args:
        cfg: the config from :func:`load_config`.
        loaders: the dataloaders the run will use, whose data paths are checked:
            ``('train', 'val')`` for training, ``('test', )`` for ``tools/test.py``.

    Returns:
        The runner (``runner_type`` from the registry of the config's scope if set).
    """
    import mnsp_mm  # noqa: F401  (registration + checkpoint allow-list, whatever the config says)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    from mnsp_mm.utils.config_text import OnceFormattedConfig
    prepare_config(cfg, loaders)
    init_cpu_dist(cfg)
    cfg = OnceFormattedConfig.of(cfg)  # mmengine re-formats it at every checkpoint save
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
