"""`make demo` and `make study`: scratch, MAE, LMIM and MNSP on a CPU, and where pretraining pays.

Does self-supervised pretraining help text recognition? The run renders its own data,
pretrains every method from random weights for the same number of images seen (LMIM and
MNSP with the finished MAE run as frozen teacher), fine-tunes a recogniser from scratch and
from each encoder with the same recipe, tests every row on eight held-out sets (words and
fonts never trained on) and writes ``report.md`` with bootstrap intervals, paired
differences, budgets and label-free diagnostics of the encoders.

Profiles (``--profile``): ``default`` (`make demo`: the main rows, one seed each),
``study`` (`make study`: the main rows, then on the validation split the same two
pretraining lr for every method, MAE's budget curve at 1x/4x/16x the images with LMIM and
MNSP taught by its 16x run, the frozen reading probe of every encoder and a label curve),
``equal_budget`` (seeds of the main rows, teacher-free rows and ablations at one budget),
``quick`` (the smoke test `make test` runs).

Stages (each one writes ``<work-dir>/<stage>/done.json``; a rerun skips finished stages and
an interrupted training stage resumes from its last checkpoint):

1. ``render``: an unlabeled pool (LMDB, for pretraining), the labeled training set, and eight
   test sets with glyph masks.
2. ``pretrain_<method>[_seed<s>]``: ``configs/demo/*_pretrain.py`` and
   ``configs/demo/ablations/*.py``.
3. ``finetune_<row>[_seed<s>][_ft<f>]``: ``configs/demo/finetune.py`` from scratch or an
   encoder, then the test on every test set; ``reference``: Tesseract on every test crop.
4. ``diagnostics``: linear probes and feature collapse of every encoder.
5. ``attention``: [cls] attention maps and the attention-on-text fraction.
6. ``report.md``, ``forest.png``, ``results.png``, ``pretrain_losses.png``.

    python tools/demo.py                      # default profile (make demo)
    python tools/demo.py --profile study      # make study (about 1.7 hours on 2 cores)
    python tools/demo.py --quick              # smoke profile (what `make test` runs)
    python tools/demo.py --work-dir DIR --seed 1
    python tools/demo.py --force finetune_mae # redo a stage (and what depends on it)
    python tools/demo.py --profile regime --only 'finetune_*_val*'  # some stages, no report
    python tools/demo.py --jobs 1             # one stage at a time, all threads each

Training stages run two at a time (``--jobs``), each in its own process with one torch
thread: on 2 cores a tiny model gains more from that than from a 2nd thread.

Every stage's exact config is written to ``<work-dir>/configs/`` and ``report.md`` lists the
``tools/render_synth.py`` / ``tools/train.py`` / ``tools/test.py`` commands that redo it.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from mnsp_mm.demo import PROFILES, TEST_SETS, Study, write_report  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='mnsp_mm demo: pretraining for text recognition '
                                'on built-in synthetic data (CPU)')
    p.add_argument('--profile', choices=sorted(PROFILES), default='default',
                   help='default: make demo; study: make study (where pretraining '
                   'pays); quick: the smoke test')
    p.add_argument('--quick', action='store_true', help='the same as --profile quick')
    p.add_argument('--work-dir', help='data, checkpoints and report.md (default '
                   'work_dirs/demo, work_dirs/study or work_dirs/demo_quick)')
    p.add_argument('--seed', type=int, default=0, help='data and training seed (0)')
    p.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                   help='rendering processes')
    p.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1),
                   help='training stages run side by side when they do not depend on each '
                        'other, each with cpu_count/jobs torch threads (default: 2 on 2+ '
                        'cores; a tiny model gains more from this than from a 2nd thread)')
    p.add_argument('--force', nargs='+', default=[], metavar='STAGE',
                   help='redo these stages (and the ones after them that use their output)')
    p.add_argument('--only', nargs='+', metavar='STAGE',
                   help='run only these stages (shell patterns, e.g. "finetune_*_val*") and '
                        'the stages they need; no report is written')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error('--seed must be >= 0')
    if args.jobs < 1:
        p.error('--jobs must be >= 1')
    if args.quick:
        args.profile = 'quick'
    default_dir = {'default': 'work_dirs/demo', 'quick': 'work_dirs/demo_quick'}
    args.work_dir = Path(args.work_dir or default_dir.get(args.profile,
                                                          f'work_dirs/{args.profile}'))
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    print(f'[demo] profile {args.profile}, seed {args.seed}, work dir {args.work_dir}')
    study = Study(args)
    study.run_all()
    if args.only:
        print(f'[demo] --only: the stages asked for are done; run without --only for the '
              f'report ({time.perf_counter() - t0:.0f}s)')
        return
    report = write_report(study.root, args.profile, study, list(TEST_SETS),
                          time.perf_counter() - t0, argv_line(args))
    print(f'[report] {report}')
    print(f'[demo] done in {time.perf_counter() - t0:.0f}s')


def argv_line(args) -> str:
    """The command that reproduces this whole run."""
    return (f'python tools/demo.py --profile {args.profile} --work-dir {args.work_dir}'
            f' --seed {args.seed}')


if __name__ == '__main__':
    main()
