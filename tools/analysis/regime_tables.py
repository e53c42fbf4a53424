"""The "Where pretraining pays" validation tables from the stages a work dir has finished.

``tools/demo.py --only`` runs some stages and writes no report (the report needs them all);
this prints the validation rows that are done, each paired with the plain row of its
initialisation and with scratch under the same recipe, and their fine-tuning curves:

    python tools/analysis/regime_tables.py work_dirs/regime --profile regime_long
    python tools/analysis/regime_tables.py work_dirs/regime --pair mae:val_writes0.125 scratch:val
"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run from anywhere

from mnsp_mm.demo.regime_report import (done_validation_rows, paired_lines,  # noqa: E402
                                        validation_lines)
from mnsp_mm.demo.report import finetune_lines  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dir', help='a tools/demo.py work dir')
    p.add_argument('--profile', default='regime_long', help='the profile it ran (its plan)')
    p.add_argument('--pair', nargs=2, action='append', default=[], metavar=('ROW', 'MINUS'),
                   help='also print ROW minus MINUS on the same crops (rows as init:recipe, '
                   'e.g. mae:val_writes0.125 scratch:val); repeatable')
    args = p.parse_args(argv)
    work = Path(args.work_dir)
    if not work.is_dir():
        raise SystemExit(f'work dir not found: {work}')
    spec = importlib.util.spec_from_file_location('demo_tool', ROOT / 'tools' / 'demo.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    study = tool.Study(tool.parse_args(['--profile', args.profile, '--work-dir', str(work)]))
    for done in work.glob('*/done.json'):
        study.records[done.parent.name] = json.loads(done.read_text())
    rows = done_validation_rows(study)
    if not rows:
        raise SystemExit(f'{work}: no validation row of profile {args.profile} is done')
    lines = [*validation_lines(study, rows), '', *finetune_lines(study, rows)]
    if args.pair:
        try:
            lines += ['', *paired_lines(study, rows, args.pair)]
        except KeyError as e:
            raise SystemExit(f'--pair: {e.args[0]}')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
