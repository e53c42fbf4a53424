"""`make demo`: the whole study on the built-in synthetic data, on a CPU, in minutes.

Does self-supervised pretraining help text recognition when labels are few? The demo renders
its own data, pretrains MAE (the MAERec baseline), LMIM and MNSP, fine-tunes a recogniser from
scratch and from each pretrained encoder with the same budget and seed, tests all four on
seven held-out sets with MMOCR's metrics and writes ``report.md``.

Stages (each one writes ``<work-dir>/<stage>/done.json``; a rerun skips finished stages and
an interrupted training stage resumes from its last checkpoint):

1. ``render``: an unlabeled pool (LMDB, for pretraining), a small labeled training set, and
   seven test sets, one per benchmark-like category (regular, curved, rotated, perspective,
   low_res, long_words, unusual_fonts), with glyph masks.
2. ``pretrain_mae``, ``pretrain_lmim``, ``pretrain_mnsp``: the tiny CPU configs of the same
   code as the paper configs (``configs/demo/*_pretrain.py``); MAE is LMIM's and MNSP's
   frozen teacher and their student's starting point.
3. ``finetune_{scratch,mae,lmim,mnsp}``: ``configs/demo/finetune.py`` from scratch and
   ``configs/demo/finetune_pretrained.py`` (the same with layer-wise lr decay) from each
   pretrained encoder, then the test on every test set.
4. ``attention``: [cls] attention maps and the attention-on-text fraction of each encoder.
5. ``report``: ``report.md``, ``results.png``, ``pretrain_losses.png``.

    python tools/demo.py                      # default profile
    python tools/demo.py --quick              # smoke profile (what `make test` runs)
    python tools/demo.py --work-dir DIR --seed 1
    python tools/demo.py --force finetune_mae # redo a stage (and what depends on it)
    python tools/demo.py --jobs 1             # one stage at a time, all threads each

After MAE, the other training stages run two at a time (``--jobs``), each in its own process
with one torch thread: on 2 cores a tiny model gains more from that than from a 2nd thread.

Every stage's exact config is written to ``<work-dir>/configs/`` and ``report.md`` lists the
``tools/render_synth.py`` / ``tools/train.py`` / ``tools/test.py`` commands that redo it.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from mnsp_mm.demo import INITS, LABELS, TEST_SETS, Study, write_report  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='mnsp_mm demo: pretraining for text recognition '
                                'on built-in synthetic data (CPU)')
    p.add_argument('--quick', action='store_true',
                   help='smoke profile: tiny data and budgets (under 3 minutes)')
    p.add_argument('--work-dir', help='data, checkpoints and report.md '
                   '(default work_dirs/demo, or work_dirs/demo_quick with --quick)')
    p.add_argument('--seed', type=int, default=0, help='data and training seed (0)')
    p.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                   help='rendering processes')
    p.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1),
                   help='training stages run side by side when they do not depend on each '
                        'other, each with cpu_count/jobs torch threads (default: 2 on 2+ '
                        'cores; a tiny model gains more from this than from a 2nd thread)')
    p.add_argument('--force', nargs='+', default=[], metavar='STAGE',
                   help='redo these stages (and the ones after them that use their output)')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error('--seed must be >= 0')
    if args.jobs < 1:
        p.error('--jobs must be >= 1')
    args.profile = 'quick' if args.quick else 'default'
    args.work_dir = Path(args.work_dir or f'work_dirs/demo{"_quick" if args.quick else ""}')
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    print(f'[demo] profile {args.profile}, seed {args.seed}, work dir {args.work_dir}')
    study = Study(args)
    study.run_all()
    report = write_report(study.root, args.profile, study.profile, study.records,
                          TEST_SETS, INITS, LABELS, time.perf_counter() - t0, argv_line(args))
    print(f'[report] {report}')
    print(f'[demo] done in {time.perf_counter() - t0:.0f}s')


def argv_line(args) -> str:
    """The command that reproduces this whole run."""
    return (f'python tools/demo.py{" --quick" if args.quick else ""} --work-dir {args.work_dir}'
            f' --seed {args.seed}')


if __name__ == '__main__':
    main()
