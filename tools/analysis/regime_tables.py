"""The "Where pretraining pays" validation tables from the stages a work dir has finished.

``tools/demo.py --only`` runs some stages and writes no report (the report needs them all);
this prints the validation rows that are done, each paired with the plain row of its
initialisation and with scratch under the same recipe, and their fine-tuning curves; with
``--test-pair``, the done test-split rows (OOV, per set) and each pair's difference per set:

    python tools/analysis/regime_tables.py work_dirs/regime --profile regime_long
    python tools/analysis/regime_tables.py work_dirs/regime --pair mae:val_writes0.125 scratch:val
    python tools/analysis/regime_tables.py work_dirs/regime --profile nsp_variants \
        --test-pair mnsp_t16:long3_writes0.25 mae_16x:long3_writes0.25
"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run from anywhere

from mnsp_mm.demo.plan import row_label  # noqa: E402
from mnsp_mm.demo.profiles import TEST_SETS  # noqa: E402
from mnsp_mm.demo.regime_report import (cause_lines, done_rows, paired_lines,  # noqa: E402
                                        per_set_lines, validation_lines)
from mnsp_mm.demo.report import finetune_lines, reading_table  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dir', help='a tools/demo.py work dir')
    p.add_argument('--profile', default='regime_long', help='the profile it ran (its plan)')
    p.add_argument('--pair', nargs=2, action='append', default=[], metavar=('ROW', 'MINUS'),
                   help='also print ROW minus MINUS on the same crops (rows as init:recipe, '
                   'e.g. mae:val_writes0.125 scratch:val); repeatable')
    p.add_argument('--test-pair', nargs=2, action='append', default=[], metavar=('ROW', 'MINUS'),
                   help='a pair of test-split rows: ROW minus MINUS on each test set\'s OOV '
                   'crops (e.g. mnsp_t16:long3_writes0.25 scratch:long3); repeatable')
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
    rows = done_rows(study, 'val')
    if not rows and not args.test_pair:
        raise SystemExit(f'{work}: no validation row of profile {args.profile} is done')
    lines = [*validation_lines(study, rows), '', *finetune_lines(study, rows)] if rows else []
    cause = cause_lines(study, rows) if rows else []  # needs the probes' stream RMS
    if cause:
        lines += ['', *cause]
    if args.pair:
        try:
            lines += ['', *paired_lines(study, rows, args.pair)]
        except KeyError as e:
            raise SystemExit(f'--pair: {e.args[0]}')
    if args.test_pair:
        lines += test_lines(study, args.test_pair)
    print('\n'.join(lines))


def test_lines(study, pairs) -> list:
    """The test rows of ``pairs`` (OOV WAICS per set) and each pair's per-set difference."""
    wanted = {r for pair in pairs for r in pair}
    done = done_rows(study, 'test')
    missing = sorted(wanted - set(done))
    if missing:
        raise SystemExit(f'--test-pair: test rows {missing} are not done; done: {sorted(done)}')
    table = reading_table(study, {r: done[r] for r in done if r in wanted}, TEST_SETS)
    labels = [(row_label(a), row_label(b)) for a, b in pairs]
    return ['', *table.markdown(), '', *per_set_lines(table, labels)]


if __name__ == '__main__':
    main()
