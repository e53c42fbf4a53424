"""The six common benchmarks, prepared with MMOCR 1.0.1's own dataset preparer.

The mmocr wheel ships the preparer machinery (``DatasetPreparer``, obtainers, gatherers,
parsers, packers, dumpers, config generators) but not MMOCR's per-dataset configs; ours live
in ``dataset_zoo/<name>/{metafile.yml,textrecog.py}``. ``tools/prepare_dataset.py`` is the
command line; :func:`prepare` does the work:

1. every file each obtainer needs must be in the cache dir (``<data-root>/cache``,
   md5-checked) before anything runs: missing ones are downloaded with the wheel's
   ``NaiveDataObtainer.download`` (never with ``offline``), and what still cannot be used is
   reported with its name, the exact path it must have and its URL;
2. MMOCR's ``DatasetPreparer`` does the rest (extract, gather, parse, pack, dump, generate
   the base config), then optionally an LMDB per split.
"""
import hashlib
import http.client
import os
import os.path as osp
import socket
import sys
import urllib.error

from mmengine import Config

SPLITS = ('train', 'test', 'val')
PARTS = ('obtainer', 'gatherer', 'parser', 'packer', 'dumper')


def load_dataset_cfg(name, args):
    """Load ``dataset_zoo/<name>/<task>.py`` and point it at our data/cache/config dirs.

    Args:
        name (str): Dataset name (a folder of the dataset zoo).
        args (argparse.Namespace): Parsed command line.

    Returns:
        mmengine.Config: A config ready for ``DatasetPreparer.from_file``.
    """
    folder = osp.join(args.dataset_zoo_path, name)
    cfg_path = osp.join(folder, f'{args.task}.py')
    if not osp.isfile(cfg_path):
        known = sorted(d for d in os.listdir(args.dataset_zoo_path)
                       if osp.isfile(osp.join(args.dataset_zoo_path, d, f'{args.task}.py')))
        raise SystemExit(f'error: no {args.task} config for dataset "{name}" ({cfg_path}); '
                         f'available: {", ".join(known)}')
    meta_path = osp.join(folder, 'metafile.yml')
    if osp.isfile(meta_path):
        meta = Config.fromfile(meta_path)
        if args.task not in meta.Data.Tasks:
            raise SystemExit(f'error: {name} does not support task {args.task}')
        lic = meta.Data.License
        terms = (f'license {lic.Type} ({lic.Link})' if lic.Type not in (None, 'N/A') else
                 'no license stated; see ' + meta.Data.Website)
        print(f'{meta.Name}: {terms}. Use it under its owners\' terms and cite its paper.')

    cfg = Config.fromfile(cfg_path)
    cfg.data_root = osp.join(args.data_root, name)
    cfg.dataset_name = name
    cfg.task = args.task
    cfg.nproc = args.nproc
    for split in SPLITS:
        preparer = cfg.get(f'{split}_preparer')
        if not preparer:
            continue
        for part in PARTS:  # DatasetPreparer fills data_root in where it is absent
            if preparer.get(part):
                preparer[part].pop('data_root', None)
        if preparer.get('obtainer'):
            preparer.obtainer.cache_path = args.cache_path
    gen = cfg.get('config_generator')
    if gen:
        gen.pop('data_root', None)
        gen.config_path = args.config_path
        gen.overwrite_cfg = args.overwrite_cfg or gen.get('overwrite_cfg', False)
        if args.lmdb:
            gen.dataset_name = f'{name}_lmdb'
            for split in SPLITS:
                has = bool(cfg.get(f'{split}_preparer'))
                gen[f'{split}_anns'] = ([dict(ann_file=f'textrecog_{split}.lmdb')]
                                        if has else None)
    return cfg


def required_files(name, cfg, splits):
    """List the files the obtainers of ``splits`` need, where ``NaiveDataObtainer`` looks.

    Args:
        name (str): Dataset name.
        cfg (mmengine.Config): Config from :func:`load_dataset_cfg`.
        splits (list[str]): Requested splits.

    Returns:
        list[dict]: One dict per distinct file: dataset, path, url, md5, splits.
    """
    files = {}
    for split in splits:
        preparer = cfg.get(f'{split}_preparer')
        if not preparer or not preparer.get('obtainer'):
            continue
        obtainer = preparer.obtainer
        for f in obtainer.get('files', []):
            save_name = f.get('save_name') or osp.basename(f['url'])
            path = osp.abspath(osp.join(obtainer.cache_path, save_name))
            entry = files.setdefault(path, dict(dataset=name, path=path, url=f.get('url'),
                                                md5=f.get('md5'), splits=[]))
            entry['splits'].append(split)
    return list(files.values())


def md5sum(path, chunk=1 << 20):
    """md5 of a file (hashlib, not mmocr.utils.get_md5: the check must not wait for the
    ~9 s mmocr import).

    Args:
        path (str): File path.
        chunk (int): Read size in bytes.

    Returns:
        str: Hex digest.
    """
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def problem(entry):
    """Why a required file cannot be used as it is (None when it can).

    Args:
        entry (dict): From :func:`required_files`.

    Returns:
        str or None: ``'missing'``, an md5 mismatch description, or None.
    """
    if not osp.isfile(entry['path']):
        return 'missing'
    if entry['md5'] is not None:
        got = md5sum(entry['path'])
        if got != entry['md5']:
            return f'md5 mismatch (expected {entry["md5"]}, found {got})'
    return None


def report(failed, args):
    """Print which files are missing and where to put them.

    Args:
        failed (list[tuple[dict, str]]): (entry, reason) pairs.
        args (argparse.Namespace): Parsed command line.
    """
    lines = [f'ERROR: {len(failed)} required file(s) are not in the cache dir '
             f'{osp.abspath(args.cache_path)} and could not be obtained'
             + (' (--offline)' if args.offline else '') + ':']
    for entry, reason in failed:
        lines += [f'  [{entry["dataset"]}] {osp.basename(entry["path"])}  '
                  f'(needed by split {"/".join(entry["splits"])}): {reason}',
                  f'      put it at: {entry["path"]}',
                  f'      download:  {entry["url"]}',
                  f'      md5:       {entry["md5"] or "(not checked)"}']
    lines.append('Download each file by hand (from any machine), save it under exactly that '
                 'name and re-run, e.g. with --offline. See dataset_zoo/README.md.')
    print('\n'.join(lines), file=sys.stderr)


def fetch(todo, args):
    """Download the files the cache lacks with the wheel's ``NaiveDataObtainer.download``.

    Downloading here (instead of inside ``DatasetPreparer.run``) lets a failure be
    reported before anything is extracted, and also covers ``md5=None`` entries, which
    the wheel's obtainer never downloads (``check_integrity`` returns True for them).

    Args:
        todo (list[tuple[dict, str]]): (entry, reason) pairs to download.
        args (argparse.Namespace): Parsed command line.

    Returns:
        list[tuple[dict, str]]: The entries that still cannot be used, with the reason.
    """
    from mmocr.datasets.preparers.obtainers import NaiveDataObtainer

    socket.setdefaulttimeout(args.timeout)
    failed = []
    for entry, reason in todo:
        print(f'{osp.basename(entry["path"])}: {reason}, downloading')
        os.makedirs(osp.dirname(entry['path']), exist_ok=True)
        existed = osp.exists(entry['path'])
        try:
            # download() uses no instance state; an instance would create dirs first
            NaiveDataObtainer.download(None, url=entry['url'], dst_path=entry['path'])
        except (OSError, urllib.error.URLError, http.client.HTTPException,
                ValueError) as exc:  # no network, DNS, HTTP 4xx/5xx, bad URL
            if not existed and osp.exists(entry['path']):
                os.remove(entry['path'])  # a partial download must not look usable
            failed.append((entry, f'download failed: {exc}'))
            continue
        left = problem(entry)
        if left:
            failed.append((entry, f'downloaded, but {left}'))
    return failed


def register_helpers():
    """Register the one parser the wheel lacks (needs mmocr, so imported lazily)."""
    from mmocr.datasets.preparers.parsers import ICDARTxtTextRecogAnnParser
    from mmocr.registry import DATA_PARSERS

    if 'BaseNameTxtRecogAnnParser' in DATA_PARSERS.module_dict:
        return

    @DATA_PARSERS.register_module()
    class BaseNameTxtRecogAnnParser(ICDARTxtTextRecogAnnParser):
        """``ICDARTxtTextRecogAnnParser`` keeping only the file name of each image.

        Hand-written because 1.0.1 dropped the parser's ``base_name`` option, while the
        IIIT5K/SVTP label files name images as ``test/1002_1.png``.
        """

        def parse_files(self, img_dir, ann_path):
            """Parse the label file; see ``ICDARTxtTextRecogAnnParser.parse_files``."""
            samples = super().parse_files(img_dir, ann_path)
            return [(osp.join(img_dir, osp.basename(path)), text) for path, text in samples]


def to_lmdb(cfg, splits):
    """Write ``textrecog_<split>.lmdb`` next to each produced ``textrecog_<split>.json``.

    Uses the wheel's ``TextRecogLMDBDumper`` on the packed JSON, so it also covers the
    datasets whose JSON is obtained ready-made (IC13, CUTE80) rather than dumped.

    Args:
        cfg (mmengine.Config): Dataset config.
        splits (list[str]): Requested splits.
    """
    import mmengine
    from mmocr.datasets.preparers.dumpers import TextRecogLMDBDumper

    for split in splits:
        ann = osp.join(cfg.data_root, f'textrecog_{split}.json')
        if cfg.get(f'{split}_preparer') and osp.isfile(ann):
            TextRecogLMDBDumper(task='textrecog', split=split,
                                data_root=cfg.data_root)(mmengine.load(ann))


def prepare(args) -> int:
    """Prepare every dataset of ``args.datasets``; returns the process exit code.

    Args:
        args (argparse.Namespace): what ``tools/prepare_dataset.py`` parses: ``datasets``,
            ``task``, ``splits``, ``dataset_zoo_path``, ``data_root``, ``cache_path``,
            ``config_path``, ``overwrite_cfg``, ``nproc``, ``lmdb``, ``offline``, ``timeout``.

    Returns:
        int: 0 on success, 2 when required files are missing.
    """
    cfgs = {name: load_dataset_cfg(name, args) for name in args.datasets}

    # 1. every file each obtainer needs must be in the cache before anything runs
    todo = []
    for name, cfg in cfgs.items():
        for entry in required_files(name, cfg, args.splits):
            reason = problem(entry)
            if reason:
                todo.append((entry, reason))
    if todo:
        if args.offline:
            failed = [(e, f'{r}; --offline forbids downloading it') for e, r in todo]
        else:
            failed = fetch(todo, args)
        if failed:
            report(failed, args)
            return 2

    # 2. MMOCR's DatasetPreparer does the rest: extract, move, gather, parse, pack, dump,
    #    delete the leftovers, generate the base config
    from mmocr.datasets.preparers import DatasetPreparer
    register_helpers()
    for name, cfg in cfgs.items():
        print(f'==> {name} ({args.task}, splits {" ".join(args.splits)}) -> {cfg.data_root}')
        DatasetPreparer.from_file(cfg).run(args.splits)
        if args.lmdb:
            to_lmdb(cfg, args.splits)
        made = sorted(f for f in os.listdir(cfg.data_root)
                      if f.startswith(f'{args.task}_') and not f.endswith('_imgs'))
        print(f'{name}: {", ".join(made) or "nothing produced"}')
    return 0


