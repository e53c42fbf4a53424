"""What every run gets before its runner is built, whichever tool builds it.

:class:`~mnsp_mm.apis.MnspRunner` (the configs' ``runner_type``) applies these, so
``tools/train.py``, MMOCR's / mmpretrain's own ``tools/train.py`` and ``mim train`` give the
same run: missing data paths and a dictionary that cannot cover the labels fail before any
dataset or worker is built, the label length limit follows the decoder, the train loader
reports skipped samples from its workers, and the reliability hooks are always there.
"""
import json
import logging
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

from .config_checks import (check_annotation_files, check_dictionary_file, check_numbers,
                            dataset_configs)

#: How much of a training annotation file the dictionary check reads (labels are sampled
#: from its start, so the check stays cheap on multi-GB files); ``data_check`` overrides.
DATA_CHECK_DEFAULTS = dict(max_scan_bytes=8 << 20, max_unknown_label_ratio=0.05)


def _is_remote(path: str) -> bool:
    return '://' in str(path)


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
        for key, ds in dataset_configs(loader.get('dataset'), f'{name}_dataloader.dataset'):
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
                    raise _missing(f'{key}.sources.{i}{sub}', path, _joined(root, path))


def _local_relative(path) -> bool:
    return isinstance(path, str) and bool(path) and not osp.isabs(path) and \
        not _is_remote(path)


def _absolute_out_dirs(node) -> None:
    """Every relative ``out_dir`` of an evaluator (``TextPredictionDump``) made absolute."""
    if isinstance(node, dict):
        if _local_relative(node.get('out_dir')):
            node['out_dir'] = osp.abspath(node['out_dir'])
        for value in node.values():
            _absolute_out_dirs(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _absolute_out_dirs(value)


def absolute_paths(cfg: Config) -> Config:
    """Resolve the config's relative data and output paths against the current directory.

    A config is read relative to where the run starts; the copy mmengine dumps into the work
    dir (and the demo's stage configs) must mean the same files wherever it is run from
    later. Made absolute: every loader's dataset ``data_root`` (or, without one, its
    ``ann_file`` and ``sources``), the evaluators' ``out_dir``, ``load_from`` and the model's
    ``pretrained`` / ``checkpoint`` files that exist. Remote paths (``s3://``, ...) stay.

    Args:
        cfg: the config (modified in place).

    Returns:
        ``cfg``.
    """
    for name in ('train', 'val', 'test'):
        loader = cfg.get(f'{name}_dataloader')
        if not isinstance(loader, dict):
            continue
        for _, ds in dataset_configs(loader.get('dataset'), name):
            if _local_relative(ds.get('data_root')):
                ds['data_root'] = osp.abspath(ds['data_root'])
            if ds.get('data_root'):
                continue  # ann_file / sources are relative to it
            if _local_relative(ds.get('ann_file')):
                ds['ann_file'] = osp.abspath(ds['ann_file'])
            sources = ds.get('sources')
            if isinstance(sources, (str, dict)):
                sources = ds['sources'] = [sources]
            for i, src in enumerate(sources or []):
                if isinstance(src, dict) and _local_relative(src.get('path')):
                    src['path'] = osp.abspath(src['path'])
                elif _local_relative(src):
                    sources[i] = osp.abspath(src)
    for name in ('val_evaluator', 'test_evaluator'):
        _absolute_out_dirs(cfg.get(name))
    if _local_relative(cfg.get('load_from')) and osp.isfile(cfg.load_from):
        cfg.load_from = osp.abspath(cfg.load_from)
    stack = [cfg.get('model')]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ('pretrained', 'checkpoint'):
                if _local_relative(node.get(key)) and osp.isfile(node[key]):
                    node[key] = osp.abspath(node[key])
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return cfg


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
    for key, ds in dataset_configs(loader.get('dataset'), 'train_dataloader.dataset'):
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


#: Decoder types whose loss is CTC (MMOCR's CRNN head, our token-grid head).
CTC_DECODERS = ('TokenCTCDecoder', 'CRNNDecoder', 'mmocr.CRNNDecoder')


def label_limit(decoder: dict) -> Tuple[Optional[int], bool]:
    """The longest label the recognition head can learn, and whether it is a CTC head.

    An attention decoder spends one of its ``max_seq_len`` steps on the end token:
    ``max_seq_len - 1``. A CTC head has one time step per column of its grid
    (``TokenCTCDecoder(grid=(h, w))``: ``w``, or its ``max_seq_len`` when set) and needs a
    blank between two equal characters, which :class:`~mnsp_mm.datasets.FilterTextLabel`
    counts with ``ctc=True``.

    Args:
        decoder: the ``model.decoder`` config.

    Returns:
        ``(max_len or None, ctc)``.
    """
    if not isinstance(decoder, dict):
        return None, False
    loss = decoder.get('module_loss') or {}
    ctc = decoder.get('type') in CTC_DECODERS or \
        (isinstance(loss, dict) and loss.get('type') in ('CTCModuleLoss', 'mmocr.CTCModuleLoss'))
    max_seq_len = decoder.get('max_seq_len')
    if ctc:
        grid = decoder.get('grid')
        columns = int(grid[1]) if isinstance(grid, (list, tuple)) and len(grid) == 2 else None
        return (int(max_seq_len) if max_seq_len else columns), True
    return (int(max_seq_len) - 1 if max_seq_len else None), False


def fill_label_filter(cfg: Config) -> None:
    """``FilterTextLabel`` in the train pipeline follows the decoder where it says ``None``.

    ``max_len=None`` -> the head's limit (:func:`label_limit`: ``max_seq_len - 1`` for an
    attention decoder, the grid's columns for a CTC head, which also sets ``ctc=True``);
    ``dictionary=None`` -> ``model.decoder.dictionary``, so a config that changes the
    dictionary (e.g. the Chinese one) names its file once.
    """
    decoder = cfg.get('model', {}).get('decoder', {})
    max_len, ctc = label_limit(decoder)
    dictionary = decoder.get('dictionary') if isinstance(decoder, dict) else None
    loader = cfg.get('train_dataloader')
    if not isinstance(loader, dict):
        return
    for _, ds in dataset_configs(loader.get('dataset'), ''):
        for step in ds.get('pipeline') or []:
            if not isinstance(step, dict) or step.get('type') != 'FilterTextLabel':
                continue
            if step.get('max_len') is None and max_len:
                step['max_len'] = max_len
                step.setdefault('ctc', ctc)
            if step.get('dictionary') is None and dictionary is not None:
                step['dictionary'] = dictionary


#: Dataset types built as another: MMOCR's ``OCRDataset`` as ours, which skips (and counts)
#: the annotation entries it cannot parse instead of failing the build.
DATASET_SWAPS = {'OCRDataset': 'CheckedOCRDataset', 'mmocr.OCRDataset': 'CheckedOCRDataset'}


def use_checked_datasets(cfg: Config) -> None:
    """Build every ``OCRDataset`` of the config's loaders as ``CheckedOCRDataset``."""
    for name in ('train', 'val', 'test'):
        loader = cfg.get(f'{name}_dataloader')
        if not isinstance(loader, dict):
            continue
        for _, ds in dataset_configs(loader.get('dataset'), ''):
            if ds.get('type') in DATASET_SWAPS:
                ds['type'] = DATASET_SWAPS[ds['type']]


#: Hooks every run gets (also listed in both default runtimes); a config that sets its own
#: ``custom_hooks`` keeps them, :func:`add_default_hooks` appends the missing ones.
DEFAULT_CUSTOM_HOOKS = ('NonFiniteLossHook', 'DataHealthHook', 'RNGStateHook',
                        'FairShareHook')


def add_default_hooks(cfg: Config) -> None:
    """Append the :data:`DEFAULT_CUSTOM_HOOKS` a config's ``custom_hooks`` lacks."""
    hooks = list(cfg.get('custom_hooks') or [])
    have = {h.get('type') if isinstance(h, dict) else type(h).__name__ for h in hooks}
    cfg.custom_hooks = hooks + [dict(type=t) for t in DEFAULT_CUSTOM_HOOKS if t not in have]


def fit_persistent_workers(cfg: Config) -> None:
    """Turn ``persistent_workers`` off in the loaders that have no worker process.

    mmpretrain's ``tools/train.py`` sets ``persistent_workers=True`` in every loader that
    does not set it, and torch refuses that with ``num_workers=0`` (our CPU configs, or
    ``--cfg-options train_dataloader.num_workers=0``): without workers there is nothing to
    keep alive, so the run is the same.
    """
    for name in ('train', 'val', 'test'):
        loader = cfg.get(f'{name}_dataloader')
        if isinstance(loader, dict) and not loader.get('num_workers', 0):
            if loader.get('persistent_workers'):
                loader['persistent_workers'] = False


def prepare_config(cfg: Config) -> Config:
    """The additions every run gets before the runner is built.

    Checks the loop lengths, batch sizes and the dictionary file (naming the key), adds the
    missing default hooks, swaps in atomic checkpoint saving and the ``OCRDataset`` that
    skips unparsable annotation entries (:data:`DATASET_SWAPS`), fills the label
    filter's length limit and dictionary from the decoder, and makes the train loader report
    skipped samples (see
    :mod:`mnsp_mm.engine.data_health`).

    Args:
        cfg: the config (modified in place).

    Returns:
        ``cfg``.
    """
    from ..engine import use_atomic_checkpoints, wrap_collate
    check_numbers(cfg, [n for n in ('train', 'val', 'test') if cfg.get(f'{n}_dataloader')])
    fit_persistent_workers(cfg)
    absolute_paths(cfg)
    check_dictionary_file(cfg)
    add_default_hooks(cfg)
    use_atomic_checkpoints(cfg)
    use_checked_datasets(cfg)
    fill_label_filter(cfg)
    if isinstance(cfg.get('train_dataloader'), dict):
        wrap_collate(cfg.train_dataloader)
    return cfg


def check_data(cfg: Config, loaders: Sequence[str]) -> None:
    """Fail fast, before any dataset or worker is built, on data the run cannot read.

    Checks the annotation files of ``loaders`` (they parse; evaluation entries can be scored,
    :func:`~mnsp_mm.apis.config_checks.check_annotation_files`), that every data path of
    ``loaders`` exists and, when ``train`` is one of them, that the dictionary covers the
    training labels. Model-level checks (patch size, scales,
    widths, teacher checkpoint) run when the runner builds the model.

    Args:
        cfg: the config.
        loaders: the dataloaders this run uses (``train``, ``val``, ``test``).
    """
    check_data_paths(cfg, loaders)
    check_annotation_files(cfg, loaders)
    if 'train' in loaders:
        check_dictionary_coverage(cfg)


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
