"""Config and ``--cfg-options`` checks that fail before any model, dataset or worker is built.

Each error names the key, the value and what to do:

* ``--cfg-options`` items without ``=`` or with unbalanced brackets (:class:`CfgOptionsAction`);
* a ``--cfg-options`` top-level key that neither the config nor mmengine's ``Runner`` knows,
  with "did you mean" (:func:`merge_cfg_options`);
* a ``--cfg-options`` key that sets a config variable the file has already used
  (``max_iters=-5``: a no-op in mmengine), naming the keys that take effect
  (:func:`check_consumed_variables`);
* an optimizer setting torch refuses (``optim_wrapper.optimizer.lr=-1``), before the model
  is built (:func:`check_optimizer`);
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

from ..utils.moved_configs import moved_config_error

#: Top-level keys that runner building reads besides ``Runner.__init__``'s arguments.
EXTRA_RUNNER_KEYS = ('runner_type', 'custom_imports', 'find_unused_parameters',
                     'model_wrapper_cfg', 'compile', 'strategy', 'data_check')

#: Top-level keys read at run time by tools other than mmengine's ``Runner`` (MMOCR's and
#: mmpretrain's ``tools/test.py --tta``, old-style launch settings).
TOOL_KEYS = ('tta_model', 'tta_pipeline', 'work_dir', 'launcher', 'gpu_ids', 'dist_params',
             'device')

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
    known = set(cfg.keys()) | run_time_keys()
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3, cutoff=0.6)
            hint = f'; did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
            raise KeyError(f'--cfg-options {key}: {top!r} is not a key of {cfg.filename} nor '
                           f'one the runner reads{hint}')


def run_time_keys() -> set:
    """Top-level keys something reads when the run starts (the rest are config variables)."""
    return runner_keys() | set(TOOL_KEYS)


def _leaves(obj, path: str) -> Iterator[Tuple[str, object]]:
    """``(dotted path, value)`` of every non-container value below ``obj``."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f'{path}.{k}' if path else str(k))
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in obj):
        for i, v in enumerate(obj):
            yield from _leaves(v, f'{path}.{i}')
    else:
        yield path, obj


def _value_at(cfg: Config, key: str):
    obj = cfg
    for part in key.split('.'):
        if isinstance(obj, (dict, Config)) and part in obj:
            obj = obj[part]
        elif isinstance(obj, (list, tuple)) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            raise KeyError(key)
    return obj


def where_it_went(cfg: Config, key: str) -> list:
    """The run-time keys holding the current value of config variable ``key``.

    A variable such as ``max_iters = 200`` is substituted into ``train_cfg.max_iters``,
    ``param_scheduler.1.end``, ... when the config file is read; these are found by value
    (same type and value), the ones with the variable's own name first, then the shallowest.
    """
    try:
        value = _value_at(cfg, key)
    except KeyError:
        return []
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        return []
    name = key.rsplit('.', 1)[-1]
    found = [path for top in run_time_keys() if top in cfg
             for path, v in _leaves(cfg[top], top)
             if type(v) is type(value) and v == value]
    return sorted(found, key=lambda p: (p.rsplit('.', 1)[-1] != name, p.count('.'), p))


def check_consumed_variables(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` that set a config variable nothing reads at run time.

    ``max_iters=-5`` on a config whose ``train_cfg = dict(max_iters=max_iters)`` changes
    nothing: mmengine substituted the variable when it read the file. Keys the runner or
    the tools read (:func:`run_time_keys`: ``work_dir``, ``randomness``, ``load_from``, ...)
    are never refused.

    Raises:
        KeyError: naming the option and the keys that take effect (found by value).
    """
    live = run_time_keys()
    for key in options:
        top = key.split('.', 1)[0]
        if top in live or top not in cfg:
            continue
        went = where_it_went(cfg, key)
        target = f'; it went to {", ".join(went[:5])}{" ..." if len(went) > 5 else ""}: set ' \
            f'{went[0]}=... instead' if went else '; set the run-time key that uses it instead'
        raise KeyError(f'--cfg-options {key}: {top!r} is a variable of {cfg.filename} that was '
                       f'already used when the config was read; setting it changes nothing at '
                       f'run time{target}')


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
    """Check (:func:`check_option_keys`, :func:`check_consumed_variables`) and merge
    ``--cfg-options`` into ``cfg``."""
    check_option_keys(cfg, options)
    check_consumed_variables(cfg, options)
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
        check_optimizer(cfg)
    for name in loaders:
        loader = cfg.get(f'{name}_dataloader')
        if isinstance(loader, dict):
            _positive(loader, f'{name}_dataloader', ('batch_size', ))
            _positive(loader, f'{name}_dataloader', ('num_workers', ), minimum=0)


#: Optimizer arguments and the range torch accepts (``lo <= v``, or ``lo <= v < hi``).
OPTIMIZER_RANGES = dict(lr=(0, None), weight_decay=(0, None), eps=(0, None),
                        momentum=(0, None), betas=(0, 1))


def check_optimizer(cfg: Config) -> None:
    """``optim_wrapper.optimizer``'s ``lr``, ``weight_decay``, ``eps``, ``momentum`` and
    ``betas`` are numbers in the range torch accepts.

    torch checks them only when the optimizer is built, after the model, with messages
    such as ``Invalid learning rate: -1`` that name no config key.

    Raises:
        ValueError: naming the key and the value.
    """
    wrapper = cfg.get('optim_wrapper')
    optimizer = wrapper.get('optimizer') if isinstance(wrapper, dict) else None
    if not isinstance(optimizer, dict):
        return
    for name, (lo, hi) in OPTIMIZER_RANGES.items():
        value = optimizer.get(name)
        if value is None:
            continue
        values = value if name == 'betas' and isinstance(value, (list, tuple)) else [value]
        for v in values:
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not number or v < lo or (hi is not None and v >= hi) or v != v:
                bound = f'>= {lo}' + (f' and < {hi}' if hi is not None else '')
                raise ValueError(f'optim_wrapper.optimizer.{name}={value!r}: must be '
                                 f'{"numbers" if name == "betas" else "a number"} {bound}')


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
        key = 'model.decoder.dictionary.dict_file'
        moved = moved_config_error(path, key)  # a dumped config of the old configs layout
        if moved:
            raise moved
        raise FileNotFoundError(f'model.decoder.dictionary.dict_file={path!r} does not exist; '
                                f'give an existing dictionary file (one character per line), '
                                f'e.g. with --cfg-options model.decoder.dictionary.dict_file=...')


# ------------------------------------------------------------- annotations
def _json_annotations(cfg: Config, loaders: Sequence[str]
                      ) -> Iterator[Tuple[str, str, str, dict]]:
    """``(loader name, config key, path, dataset config)`` of every local MMOCR JSON
    annotation file."""
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
                yield name, f'{key}.ann_file', path, ds


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


#: How many image paths of a training annotation file :func:`check_image_sample` checks
#: (evenly spaced; evaluation files: up to 5000).
IMAGE_SAMPLE = dict(train=64, eval=5000)


def image_root(ds: dict) -> str:
    """The folder a dataset config's ``img_path`` values are relative to (as mmengine joins)."""
    root = ds.get('data_root') or ''
    prefix = (ds.get('data_prefix') or {}).get('img_path', '') or ''
    if not prefix:
        return root
    return prefix if osp.isabs(prefix) or not root else osp.join(root, prefix)


def _indexed(entries: list, indices) -> list:
    """The entries a dataset reads: mmengine's ``indices`` (an int keeps the first N, a
    sequence those positions), or all."""
    if indices is None:
        return entries
    if isinstance(indices, int):
        return entries[:indices]
    return [entries[i] for i in indices if -len(entries) <= i < len(entries)]


def check_image_sample(entries: list, ds: dict, key: str, path: str, strict: bool) -> None:
    """Check that the images of a sample of annotation entries exist.

    Args:
        entries: the ``data_list`` of the annotation file.
        ds: the dataset config (``data_root``, ``data_prefix``).
        key: the config key of the annotation file, for the message.
        path: the annotation file.
        strict: an evaluation file: one missing image of the sample is an error (MMOCR
            raises mid-evaluation on it); training skips missing images, so only a sample
            with no image at all is.

    Raises:
        FileNotFoundError: naming the annotation file, the image folder and examples.
    """
    from ..datasets.labels import image_path_problem
    root = image_root(ds)
    if '://' in root:
        return
    usable = [e['img_path'] for e in entries if image_path_problem(e) is None]
    limit = IMAGE_SAMPLE['eval' if strict else 'train']
    step = max(1, len(usable) // limit)
    sample = usable[::step][:limit]
    missing = [p for p in sample if '://' not in p and not osp.exists(osp.join(root, p))]
    shown = ', '.join(repr(osp.join(root, p)) for p in missing[:3])
    if not missing or (not strict and len(missing) < len(sample)):
        if missing:
            print_log(f'{key}: {path}: {len(missing)} of {len(sample)} images checked are '
                      f'missing (skipped while training), e.g. {shown}', logger='current',
                      level=logging.WARNING)
        return
    what = ('none of the {n} images checked exist' if len(missing) == len(sample)
            else f'{len(missing)} of the {{n}} images checked are missing')
    raise FileNotFoundError(
        f'{key}: {path}: {what.format(n=len(sample))} under the image folder '
        f'{root or "."!r} (data_root={ds.get("data_root")!r}, data_prefix='
        f'{ds.get("data_prefix")!r}), e.g. {shown}; is data_root the folder the annotation\'s '
        f'img_path values are relative to?')


def check_annotation_files(cfg: Config, loaders: Sequence[str]) -> Dict[str, Counter]:
    """Parse every JSON annotation file of the run and check its entries.

    Evaluation entries that cannot be scored (no instance, several, no text, a non-string
    or whitespace-only text) are an error naming file and index; training entries of those
    kinds are counted and reported (``FilterTextLabel`` skips them while training).

    Entries that are not dicts or have no string ``img_path`` count as malformed too
    (``label_no_img_path``). A sample of the image paths is checked as well
    (:func:`check_image_sample`): when none of them exists, the run stops here instead of
    MMOCR's ``Cannot find valid image after 1000!``.

    Each file is parsed once more than the dataset itself does; ``data_check =
    dict(annotations=False)`` skips this check (e.g. for very large training files).

    Returns:
        ``{path: Counter(reason)}`` of the training files with such entries.

    Raises:
        ValueError: a file does not parse, or an evaluation file has malformed entries.
    """
    from ..datasets.labels import entry_problem
    found = {}
    if not (cfg.get('data_check') or {}).get('annotations', True):
        return found
    for name, key, path, ds in _json_annotations(cfg, loaders):
        entries = _indexed(load_annotation_json(path, key)['data_list'], ds.get('indices'))
        bad = [(i, entry_problem(e)) for i, e in enumerate(entries)]
        bad = [(i, p) for i, p in bad if p is not None]
        if bad:
            counts = Counter(reason for _, (reason, _) in bad)
            listed = '; '.join(f'entry {i}: {reason} ({detail})'
                               for i, (reason, detail) in bad[:_SHOWN])
            more = f'; ... ({len(bad) - _SHOWN} more)' if len(bad) > _SHOWN else ''
            if name != 'train':
                raise ValueError(f'{key}: {path} has {len(bad)} entries that cannot be '
                                 f'evaluated ({dict(counts)}): {listed}{more}; fix or remove '
                                 f'them')
            print_log(f'{key}: {path} has {len(bad)} malformed entries ({dict(counts)}), '
                      f'skipped while training: {listed}{more}', logger='current',
                      level=logging.WARNING)
            found[path] = counts
        check_image_sample(entries, ds, key, path, strict=name != 'train')
    return found
