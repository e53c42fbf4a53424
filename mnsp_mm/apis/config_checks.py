"""Config and ``--cfg-options`` checks that fail before any model, dataset or worker is built.

Each error names the key, the value and what to do:

* ``--cfg-options`` items without ``=`` or with unbalanced brackets (:class:`CfgOptionsAction`);
* a ``--cfg-options`` top-level key that neither the config nor mmengine's ``Runner`` knows,
  with "did you mean" (:func:`merge_cfg_options`);
* ``data_root`` given to a ``ConcatDataset`` (the demo's seven test sets, the benchmark
  configs) applies to every set it holds: ``--cfg-options
  test_dataloader.dataset.data_root=DIR`` points all of them at ``DIR``;
* non-positive iteration/epoch counts and intervals, batch sizes below 1, negative workers;
* a dictionary file that does not exist (``model.decoder.dictionary.dict_file``);
* annotation JSON files that do not parse (named, with line and column), and evaluation
  annotation entries that MMOCR's ``LoadOCRAnnotations`` would crash on (file and index);
  training entries of that kind are skipped and counted by ``FilterTextLabel`` at run time,
  and the check reports how many there are (:func:`check_annotation_files`).
"""
import difflib
import inspect
import json
import logging
import os.path as osp
from collections import Counter
from typing import Dict, Iterator, Sequence, Tuple

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

#: Top-level keys that runner building reads besides ``Runner.__init__``'s arguments.
EXTRA_RUNNER_KEYS = ('runner_type', 'custom_imports', 'find_unused_parameters',
                     'model_wrapper_cfg', 'compile', 'strategy', 'data_check')

#: How many bad evaluation entries an error lists.
_SHOWN = 5


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` with errors that name the bad ``--cfg-options`` item."""

    def __call__(self, parser, namespace, values, option_string=None):
        for kv in values or []:
            if '=' not in kv:
                parser.error(f'{option_string} {kv!r}: expected KEY=VALUE, e.g. '
                             f'train_cfg.max_iters=100 (no spaces around "=")')
            key, val = kv.split('=', maxsplit=1)
            if not key:
                parser.error(f'{option_string} {kv!r}: the key before "=" is empty')
            try:
                self._parse_iterable(val)
            except AssertionError:  # mmengine asserts on unbalanced brackets
                parser.error(f'{option_string} {kv!r}: unbalanced brackets or quotes in the '
                             f'value of {key}; quote the whole item, e.g. '
                             f'"{key}=[1, 2]"')
        super().__call__(parser, namespace, values, option_string)


def runner_keys() -> set:
    """Top-level config keys mmengine's ``Runner`` (and our runner building) reads."""
    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) - {'self'} | \
        set(EXTRA_RUNNER_KEYS)


def check_option_keys(cfg: Config, options: dict) -> None:
    """Every ``--cfg-options`` key starts with a key the config or the runner knows.

    Raises:
        KeyError: naming the key, with the closest known keys ("did you mean").
    """
    known = set(cfg.keys()) | runner_keys()
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3, cutoff=0.6)
            hint = f'; did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
            raise KeyError(f'--cfg-options {key}: {top!r} is not a key of {cfg.filename} nor '
                           f'one the runner reads{hint}')


def dataset_configs(cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset config)`` of a dataset and of the ones it wraps."""
    if not isinstance(cfg, dict):
        return
    yield key, cfg
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from dataset_configs(sub, f'{key}.datasets.{i}')  # as --cfg-options spells it
    if isinstance(cfg.get('dataset'), dict):
        yield from dataset_configs(cfg['dataset'], f'{key}.dataset')


def spread_concat_data_root(cfg: Config) -> None:
    """Move a ``data_root`` set on a ``ConcatDataset`` down to every dataset it holds.

    ``ConcatDataset`` takes no ``data_root`` (mmengine raises a ``TypeError`` after the model
    is built); setting it there means "all these sets live under this root".
    """
    for name in ('train', 'val', 'test'):
        loader = cfg.get(f'{name}_dataloader')
        if not isinstance(loader, dict):
            continue
        for _, ds in dataset_configs(loader.get('dataset'), ''):
            if ds.get('type') == 'ConcatDataset' and 'data_root' in ds:
                root = ds.pop('data_root')
                for sub in ds.get('datasets') or []:
                    if isinstance(sub, dict):
                        sub['data_root'] = root


def merge_cfg_options(cfg: Config, options: dict) -> None:
    """Check (:func:`check_option_keys`) and merge ``--cfg-options`` into ``cfg``."""
    check_option_keys(cfg, options)
    cfg.merge_from_dict(options)
    spread_concat_data_root(cfg)


# ------------------------------------------------------------------ values
def _positive(cfg: dict, key: str, names: Sequence[str], minimum: int = 1) -> None:
    for name in names:
        value = cfg.get(name) if isinstance(cfg, dict) else None
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f'{key}.{name}={value!r}: must be an integer >= {minimum}')


def check_numbers(cfg: Config, loaders: Sequence[str]) -> None:
    """Loop lengths, intervals, batch sizes and worker counts are in range.

    Raises:
        ValueError: naming the key and the value, e.g. ``train_cfg.max_iters=-5``.
    """
    if 'train' in loaders:
        _positive(cfg.get('train_cfg'), 'train_cfg', ('max_iters', 'max_epochs', 'val_interval',
                                                      'val_begin'))
        hooks = cfg.get('default_hooks') or {}
        _positive(hooks.get('checkpoint'), 'default_hooks.checkpoint', ('interval', ))
        _positive(hooks.get('logger'), 'default_hooks.logger', ('interval', ))
    for name in loaders:
        loader = cfg.get(f'{name}_dataloader')
        if isinstance(loader, dict):
            _positive(loader, f'{name}_dataloader', ('batch_size', ))
            _positive(loader, f'{name}_dataloader', ('num_workers', ), minimum=0)


def check_dictionary_file(cfg: Config) -> None:
    """``model.decoder.dictionary.dict_file`` exists (when the model has one).

    Raises:
        FileNotFoundError: naming the key and the path.
    """
    dictionary = (cfg.get('model') or {}).get('decoder', {}).get('dictionary')
    if not isinstance(dictionary, dict):
        return
    path = dictionary.get('dict_file')
    if isinstance(path, str) and '://' not in path and not osp.isfile(path):
        raise FileNotFoundError(f'model.decoder.dictionary.dict_file={path!r} does not exist; '
                                f'give an existing dictionary file (one character per line), '
                                f'e.g. with --cfg-options model.decoder.dictionary.dict_file=...')


# ------------------------------------------------------------- annotations
def _json_annotations(cfg: Config, loaders: Sequence[str]) -> Iterator[Tuple[str, str, str]]:
    """``(loader name, config key, path)`` of every local MMOCR JSON annotation file."""
    for name in loaders:
        loader = cfg.get(f'{name}_dataloader')
        if not isinstance(loader, dict):
            continue
        for key, ds in dataset_configs(loader.get('dataset'), f'{name}_dataloader.dataset'):
            ann = ds.get('ann_file')
            if ds.get('type') == 'UnlabeledTextDataset' or not isinstance(ann, str) or \
                    not ann.endswith('.json') or '://' in ann:
                continue
            root = ds.get('data_root') or ''
            path = ann if osp.isabs(ann) or not root else osp.join(root, ann)
            if osp.isfile(path):
                yield name, f'{key}.ann_file', path


def load_annotation_json(path: str, key: str) -> dict:
    """Parse an MMOCR annotation file, or raise naming the file, the key and the position.

    Raises:
        ValueError: the file is not JSON, or has no ``data_list`` list.
    """
    try:
        with open(path, 'r', encoding='utf-8') as f:
            ann = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{key}: {path} is not valid JSON: {err.msg} at line {err.lineno} '
                         f'column {err.colno}') from None
    except UnicodeDecodeError as err:
        raise ValueError(f'{key}: {path} is not UTF-8 text: {err}') from None
    if not isinstance(ann, dict) or not isinstance(ann.get('data_list'), list):
        raise ValueError(f'{key}: {path} is not an MMOCR annotation file (expected '
                         f'{{"metainfo": {{...}}, "data_list": [...]}})')
    return ann


def check_annotation_files(cfg: Config, loaders: Sequence[str]) -> Dict[str, Counter]:
    """Parse every JSON annotation file of the run and check its entries.

    Evaluation entries that cannot be scored (no instance, several, no text, a non-string
    or whitespace-only text) are an error naming file and index; training entries of those
    kinds are counted and reported (``FilterTextLabel`` skips them while training).

    Each file is parsed once more than the dataset itself does; ``data_check =
    dict(annotations=False)`` skips this check (e.g. for very large training files).

    Returns:
        ``{path: Counter(reason)}`` of the training files with such entries.

    Raises:
        ValueError: a file does not parse, or an evaluation file has malformed entries.
    """
    from ..datasets.labels import instance_problem
    found = {}
    if not (cfg.get('data_check') or {}).get('annotations', True):
        return found
    for name, key, path in _json_annotations(cfg, loaders):
        entries = load_annotation_json(path, key)['data_list']
        bad = [(i, instance_problem(e)) for i, e in enumerate(entries)]
        bad = [(i, p) for i, p in bad if p is not None]
        if not bad:
            continue
        counts = Counter(reason for _, (reason, _) in bad)
        listed = '; '.join(f'entry {i}: {reason} ({detail})'
                           for i, (reason, detail) in bad[:_SHOWN])
        more = f'; ... ({len(bad) - _SHOWN} more)' if len(bad) > _SHOWN else ''
        if name != 'train':
            raise ValueError(f'{key}: {path} has {len(bad)} entries that cannot be evaluated '
                             f'({dict(counts)}): {listed}{more}; fix or remove them')
        print_log(f'{key}: {path} has {len(bad)} malformed entries ({dict(counts)}), skipped '
                  f'while training: {listed}{more}', logger='current', level=logging.WARNING)
        found[path] = counts
    return found
