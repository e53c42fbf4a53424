"""One results table from several runs (ours), with the published numbers in a separate table.

    python tools/analysis/results_table.py work_dirs/maerec_ft work_dirs/mnsp_ft \
        --name MAERec-S MNSP
    python tools/analysis/results_table.py work_dirs/*/test_metrics.json --format csv --out t.csv
    python tools/analysis/results_table.py work_dirs/x/20240101_120000/vis_data/scalars.json \
        --best word_acc_ignore_case_symbol --metric word_acc

RUN is a ``test_metrics.json`` from ``tools/test.py``, an mmengine log json
(``<ts>/vis_data/scalars.json`` or ``<ts>/<ts>.json``) or a work dir (its newest metrics).
Numbers are percentages with 2 decimals; see ``mnsp_mm/evaluation/benchmarks.py`` for how the
averages are defined.
"""
import argparse
import sys
from pathlib import Path

from mnsp_mm import evaluation as results


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Results table (WAICS by default) from test_metrics.json files, '
        'mmengine log jsons or work dirs')
    p.add_argument('runs', nargs='+', metavar='RUN',
                   help='test_metrics.json, scalars.json / <timestamp>.json, or a work dir')
    p.add_argument('--name', nargs='+', default=[], metavar='NAME',
                   help='row names, in RUN order (default: the run dir name)')
    p.add_argument('--metric', default=results.DEFAULT_METRIC,
                   help='metric name or key tail (default %(default)s)')
    p.add_argument('--format', choices=['markdown', 'csv'], default='markdown')
    p.add_argument('--out', help='write the table here instead of stdout')
    p.add_argument('--no-published', action='store_true',
                   help='leave out the published numbers table')
    p.add_argument('--counts', nargs='+', default=[], metavar='NAME=N',
                   help='instance counts for the weighted avg, e.g. curve=2426 '
                   '(defaults known for the six common benchmarks)')
    p.add_argument('--best', metavar='KEY',
                   help='for log files: take the line with the highest KEY (mean over '
                   'datasets when KEY matches several) instead of the last one')
    p.add_argument('--decimals', type=int, default=2, help='digits after the point (ours)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if len(args.name) > len(args.runs):
        raise SystemExit(f'error: {len(args.name)} --name values for {len(args.runs)} runs')
    names = args.name + [None] * (len(args.runs) - len(args.name))
    try:
        counts = results.parse_counts(args.counts)
        runs = [results.load_run_metrics(path, best=args.best, name=name)
                for path, name in zip(args.runs, names)]
        text = results.render(runs, args.metric, counts, fmt=args.format,
                              published=not args.no_published, decimals=args.decimals)
    except results.ResultsError as e:
        raise SystemExit(f'error: {e}')
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding='utf-8')
        print(f'results table written to {out}', file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
