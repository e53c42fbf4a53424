"""Prepare text recognition benchmarks with MMOCR 1.0.1's own dataset preparer.

A thin command line over :mod:`mnsp_mm.datasets.preparers` (``benchmarks.prepare``,
``union14m.check_union14m``).

The mmocr wheel ships the preparer machinery (``DatasetPreparer``, obtainers, gatherers,
parsers, packers, dumpers, config generators) and MMOCR's command line (under
``mmocr/.mim/tools/dataset_converters/prepare_dataset.py``) but not MMOCR's per-dataset
configs; ours live in ``dataset_zoo/<name>/{metafile.yml,textrecog.py}``.

Union14M has no preparer (it is downloaded by hand); ``union14m --check`` checks what was
downloaded against the layout our configs read (``dataset_zoo/union14m.md``)::

    python tools/prepare_dataset.py union14m --check --data-root data

Example::

    python tools/prepare_dataset.py iiit5k svt icdar2013 icdar2015 svtp cute80 \\
        --task textrecog --splits test

produces ``data/<name>/textrecog_test.json`` (+ ``textrecog_imgs/test/``) per dataset.

Offline use: ``NaiveDataObtainer`` looks for every file of a config in the cache dir
(``<data-root>/cache/<save_name>``, md5-checked) and downloads only what is missing or
mismatched. Put the archives there by hand (see dataset_zoo/README.md) and run with
``--offline``; a file that is absent and cannot be downloaded is reported with its name,
the exact path it must have and its URL, before anything is extracted.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))  # the checkout, or the wheel's .mim
SPLITS = ('train', 'test', 'val')  # = mnsp_mm.datasets.preparers.SPLITS (not imported: slow)


def parse_args(argv=None):
    """Parse the command line (MMOCR's prepare_dataset.py options plus path options).

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description="Prepare OCR datasets with MMOCR's DatasetPreparer and our dataset_zoo.")
    parser.add_argument('datasets', nargs='+', help='dataset names, e.g. iiit5k svt')
    parser.add_argument('--task', default='textrecog',
                        choices=['textdet', 'textrecog', 'textspotting', 'kie'],
                        help='task config to use (dataset_zoo/<name>/<task>.py)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
                        help='splits to prepare (default: all the config defines)')
    parser.add_argument('--dataset-zoo-path', default=osp.join(ROOT, 'dataset_zoo'),
                        help='directory holding <name>/<task>.py and metafile.yml')
    parser.add_argument('--data-root', default='data',
                        help='datasets are written to <data-root>/<name>')
    parser.add_argument('--cache-path', default=None,
                        help='where archives are looked for / downloaded to '
                        '(default <data-root>/cache)')
    parser.add_argument('--config-path', default=None,
                        help='where base dataset configs are generated: '
                        '<config-path>/<task>/_base_/datasets/<name>.py '
                        '(default <data-root>/configs; never the repo configs/)')
    parser.add_argument('--overwrite-cfg', action='store_true',
                        help='overwrite generated base configs that already exist')
    parser.add_argument('--nproc', type=int, default=4, help='worker processes')
    parser.add_argument('--lmdb', action='store_true',
                        help='also write textrecog_<split>.lmdb (textrecog only) and '
                        'generate the config for the LMDB files')
    parser.add_argument('--offline', action='store_true',
                        help='never download; fail if a file is not in the cache dir')
    parser.add_argument('--timeout', type=float, default=60,
                        help='network timeout in seconds for each download step')
    parser.add_argument('--check', action='store_true',
                        help='union14m only: check the hand-downloaded layout, counts per '
                        'subset and a few images of each; prepare nothing')
    args = parser.parse_args(argv)
    if 'union14m' in args.datasets:
        if args.datasets != ['union14m'] or not args.check:
            parser.error('Union14M has no preparer: download it by hand (see '
                         'dataset_zoo/union14m.md), then run "union14m --check" alone')
    elif args.check:
        parser.error('--check is for union14m only')
    if args.lmdb and args.task != 'textrecog':
        parser.error('--lmdb only works with --task textrecog')
    args.cache_path = args.cache_path or osp.join(args.data_root, 'cache')
    args.config_path = args.config_path or osp.join(args.data_root, 'configs')
    return args


def main(argv=None):
    """Prepare every requested dataset; returns the process exit code.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        int: 0 on success, 2 when required files are missing (or, with ``--check``, when no
        Union14M part is found or a part found is incomplete).
    """
    args = parse_args(argv)
    if args.check:
        from mnsp_mm.datasets.preparers.union14m import check_union14m
        parts = check_union14m(args.data_root).values()
        present = [p for p in parts if p.present]
        return 0 if present and not any(p.problems for p in present) else 2
    from mnsp_mm.datasets.preparers.benchmarks import prepare
    return prepare(args)


if __name__ == '__main__':
    sys.exit(main())
