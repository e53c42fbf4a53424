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
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere: `python tools/demo.py`


@dataclass(frozen=True)
class Profile:
    """Sizes and budgets of one demo profile (crops, iterations, batch sizes)."""
    pool: int              # unlabeled crops for pretraining
    train: int             # labeled crops for fine-tuning (the low-label regime)
    test: int              # crops per test set
    pretrain_batch: int
    mae_iters: int
    lmim_iters: int
    mnsp_iters: int
    finetune_batch: int
    finetune_iters: int
    attention_images: int  # crops drawn and measured per encoder


PROFILES = {
    'quick': Profile(pool=512, train=256, test=32, pretrain_batch=32,
                     mae_iters=20, lmim_iters=6, mnsp_iters=6, finetune_batch=32,
                     finetune_iters=20, attention_images=4),
    # 30,000 labels: on a validation split of its own (OOV words, seed 777) the CTC recogniser
    # from scratch read 64% of regular crops after 1,400 steps (README, "The demo")
    'default': Profile(pool=10000, train=30000, test=300, pretrain_batch=64,
                       mae_iters=1000, lmim_iters=200, mnsp_iters=200, finetune_batch=32,
                       finetune_iters=1400, attention_images=16),
}
# What the crops say (mnsp_mm/synth/text.py): words of the training vocabulary (wordfreq's
# most frequent English words; a tenth is held out), random letter/digit strings and numbers
# of 2-10 characters, drawn in mixed case; labels are lower case (36 classes, the alphabet
# benchmarks score on). Thousands of distinct labels: a recogniser has to read, it cannot
# recall a word list.
TEXT = dict(text_kinds='word=0.7,alnum=0.15,digits=0.15', min_len=2, max_len=10,
            fold_labels=True, vocab='train')
# Test crops: out of vocabulary (held-out words, random strings, numbers; the headline) and
# an in-vocabulary share of training-vocabulary words (``train_word``), scored apart.
TEST_TEXT = dict(TEXT, text_kinds='word=0.45,alnum=0.15,digits=0.1,train_word=0.3',
                 vocab='test')
LONG_TEXT = dict(TEST_TEXT, text_kinds='compound=0.55,alnum=0.15,train_word=0.3', min_len=11,
                 max_len=16)
POOL_PRESET = 'default'   # the unlabeled pool mixes every distortion
TRAIN_PRESET = 'default'  # so does the labeled set; both use the training fonts only
# Test-set name -> (renderer preset, draw with every training font instead of the preset's
# few), in table order. held_out_fonts uses fonts that no training or pretraining crop uses.
TEST_SETS = {name: (name, name not in ('unusual_fonts', 'held_out_fonts'))
             for name in ('regular', 'curved', 'rotated', 'perspective', 'low_res',
                          'long_words', 'unusual_fonts', 'held_out_fonts')}
PRETRAIN = ('mae', 'lmim', 'mnsp')
INITS = ('scratch', ) + PRETRAIN
LABELS = {'scratch': 'scratch', 'mae': 'MAE (MAERec)', 'lmim': 'LMIM', 'mnsp': 'MNSP'}
CONFIGS = {'mae': 'configs/demo/mae_pretrain.py', 'lmim': 'configs/demo/lmim_pretrain.py',
           'mnsp': 'configs/demo/mnsp_pretrain.py', 'finetune': 'configs/demo/finetune.py',
           'finetune_pretrained': 'configs/demo/finetune_pretrained.py'}
ATTENTION_SCALES = ('8x32', '16x64', '32x128')


def finetune_config(init: str) -> str:
    """Key in CONFIGS of the fine-tuning config: layer-wise lr decay for pretrained encoders."""
    return 'finetune' if init == 'scratch' else 'finetune_pretrained'


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


def warmup_cosine(iters: int) -> List[dict]:
    """Linear warm-up over the first 10% of ``iters``, then cosine decay to 1e-5 x lr."""
    warm = max(1, iters // 10)
    return [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warm),
            dict(type='CosineAnnealingLR', T_max=max(1, iters - warm), eta_min_ratio=1e-2,
                 by_epoch=False, begin=warm, end=iters)]


def run_options(iters: int, seed: int) -> dict:
    """Config overrides every training stage shares: budget, schedule, checkpoints, seed."""
    return {'train_cfg.max_iters': iters,
            'param_scheduler': warmup_cosine(iters),
            # a checkpoint every quarter: an interrupted stage loses at most a quarter
            'default_hooks.checkpoint.interval': max(1, iters // 4),
            'default_hooks.checkpoint.max_keep_ckpts': 1,
            'default_hooks.logger.interval': max(1, iters // 20),
            'randomness.seed': seed}


class Study:
    """The demo's stages over one work dir: skip what is done, time what runs, remember how."""

    def __init__(self, args):
        self.args = args
        self.profile = PROFILES[args.profile]
        self.root = args.work_dir
        self.data = self.root / 'data'
        self.configs = self.root / 'configs'
        self.records: Dict[str, dict] = {}
        self.bar_position = 0  # terminal line of this process's bars (stages side by side)
        self.forced = set(args.force)
        unknown = self.forced - set(self.stage_names())
        if unknown:
            raise SystemExit(f'--force: unknown stage(s) {sorted(unknown)}; stages are '
                             f'{self.stage_names()}')

    @staticmethod
    def stage_names() -> List[str]:
        return (['render'] + [f'pretrain_{a}' for a in PRETRAIN]
                + [f'finetune_{i}' for i in INITS] + ['reference', 'attention'])

    def params(self, config: Optional[str] = None) -> dict:
        """What a stage's output depends on; a change reruns the stage from scratch.

        Args:
            config: the stage's config file; its content (with its ``_base_`` files) counts.
        """
        params = dict(profile=dataclasses.asdict(self.profile), seed=self.args.seed)
        if config:
            from mmengine.config import Config
            content = json.dumps(Config.fromfile(str(REPO / config))._cfg_dict.to_dict(),
                                 sort_keys=True, default=repr)
            params['config'] = hashlib.sha1(content.encode()).hexdigest()
        return params

    def _prepare(self, name: str, depends: tuple, config: Optional[str]) -> Optional[dict]:
        """Clear stage ``name`` if it is stale; its record if it is done, else None."""
        stage_dir = self.root / name
        done, params_file = stage_dir / 'done.json', stage_dir / 'params.json'
        params = self.params(config)
        stale = any(self.records[d].get('ran') for d in depends)
        if name in self.forced or stale or (
                params_file.is_file() and json.loads(params_file.read_text()) != params):
            shutil.rmtree(stage_dir, ignore_errors=True)
        if done.is_file():
            record = json.loads(done.read_text())
            record['ran'] = False
            print(f'[{name}] done earlier in {record["seconds"]:.0f}s: skipped '
                  f'({record["line"]})')
            return record
        stage_dir.mkdir(parents=True, exist_ok=True)
        params_file.write_text(json.dumps(params, indent=2))
        return None

    def _finish(self, name: str, summary: dict, seconds: float, **extra) -> dict:
        record = dict(stage=name, seconds=seconds, finished=time.strftime('%Y-%m-%d %H:%M:%S'),
                      **summary, **extra)
        (self.root / name / 'done.json').write_text(json.dumps(record, indent=2))
        record['ran'] = True
        print(f'[{name}] {record["line"]} ({seconds:.0f}s)', flush=True)
        return record

    def run(self, name: str, fn: Callable[[Path], dict], depends: tuple = (),
            config: Optional[str] = None) -> dict:
        """Run stage ``name`` unless its ``done.json`` matches; remember its record.

        Args:
            name: stage name, also its directory under the work dir.
            fn: ``fn(stage_dir) -> summary``; resumes from what ``stage_dir`` holds.
            depends: stages whose rerun makes this one stale.
            config: the stage's config file (an edit to it reruns the stage).
        """
        record = self._prepare(name, depends, config)
        if record is None:
            start = time.perf_counter()
            record = self._finish(name, fn(self.root / name), time.perf_counter() - start)
        self.records[name] = record
        return record

    def stage_fn(self, name: str) -> Callable[[Path], dict]:
        """The function of a stage run by :meth:`run_stages` (``pretrain_<algo>``,
        ``finetune_<init>`` or ``reference``)."""
        if name == 'reference':
            return self.reference
        kind, _, what = name.partition('_')
        return self.pretrain(what) if kind == 'pretrain' else self.finetune(what)

    def run_stages(self, stages: List[tuple]) -> None:
        """Run training stages ``(name, depends, config)``, ``--jobs`` at a time.

        A stage starts once the stages it depends on are done, in list order. With more than
        one job each stage runs in its own process (spawned: the parent already runs torch
        threads) with ``cpu_count // jobs`` torch threads; results, checkpoints and resuming
        are the same as in one process, only the wall time differs.
        """
        waiting, running, pool, start = list(stages), {}, None, time.perf_counter()
        group = [name for name, _, _ in stages]
        try:
            while waiting or running:
                for stage in list(waiting):
                    name, depends, config = stage
                    if len(running) >= self.args.jobs or any(d not in self.records
                                                               for d in depends):
                        continue
                    waiting.remove(stage)
                    if self.args.jobs == 1:
                        self.run(name, self.stage_fn(name), depends, config)
                        continue
                    record = self._prepare(name, depends, config)
                    if record is not None:
                        self.records[name] = record
                    else:
                        if pool is None:
                            import multiprocessing
                            pool = multiprocessing.get_context('spawn').Pool(self.args.jobs)
                        threads = max(1, (os.cpu_count() or 1) // self.args.jobs)
                        running[name] = pool.apply_async(
                            _stage_in_worker, (self.args, self.records, name, threads))
                for name, result in list(running.items()):
                    if result.ready():
                        summary, seconds = result.get()  # a failed stage raises here
                        del running[name]
                        self.records[name] = self._finish(
                            name, summary, seconds, group=group,
                            group_elapsed=time.perf_counter() - start)
                if running:
                    time.sleep(0.5)
                elif waiting and all(any(d not in self.records for d in st[1])
                                     for st in waiting):
                    raise RuntimeError(f'stages {[st[0] for st in waiting]} wait for stages '
                                       'that are not in the study')
        finally:
            if pool is not None:
                pool.terminate()

    # ------------------------------------------------------------------ stage 1: data
    def render(self, stage_dir: Path) -> dict:
        from dataclasses import replace

        from mnsp_mm import synth
        from tqdm import tqdm
        P, seed = self.profile, self.args.seed
        ft = self.data / 'finetune'
        shutil.rmtree(self.data, ignore_errors=True)  # a half-written set is redone whole
        jobs = [('pool', POOL_PRESET, False, P.pool, seed, self.data / 'pool', ('lmdb', ),
                 False, False, TEXT),
                ('train', TRAIN_PRESET, False, P.train, seed + 1, ft, ('json', ), True, False,
                 TEXT)]
        jobs += [(name, preset, all_fonts, P.test, seed + 10 + i, ft, ('json', ), True, True,
                  LONG_TEXT if name == 'long_words' else TEST_TEXT)
                 for i, (name, (preset, all_fonts)) in enumerate(TEST_SETS.items())]
        commands, sizes = [], {}
        pool = synth.render_pool(self.args.workers) if self.args.workers > 1 else None
        with pool or contextlib.nullcontext():
            for name, preset, all_fonts, num, s, out, fmt, labeled, masks, text in jobs:
                cfg = replace(synth.preset(preset), **dict(
                    text, text_kinds=synth.parse_text_kinds(text['text_kinds'])),
                    **({'fonts': ()} if all_fonts else {}))
                samples = synth.iter_samples(num, s, cfg, pool=pool)
                samples = tqdm(samples, total=num, desc=f'render {name}', unit='crop',
                               dynamic_ncols=True, disable=self.args.no_progress)
                split = 'pretrain' if name == 'pool' else name
                synth.write_dataset(out, samples, fmt, labeled, masks, split)
                sizes[name] = num
                commands.append(
                    f'python tools/render_synth.py --out {out} --num {num} --seed {s} '
                    f'--profile {preset} --min-len {cfg.min_len} --max-len {cfg.max_len} '
                    f'--text-kinds {text["text_kinds"]} --vocab {cfg.vocab} --fold-labels '
                    + ('--all-fonts ' if all_fonts else '')
                    + f'--format {fmt[0]} --name {split}'
                    + ('' if labeled else ' --unlabeled') + (' --masks' if masks else ''))
        fonts = self.data / 'fonts.json'  # which font families each split holds, as rendered
        record = synth.font_split_record()
        fonts.write_text(json.dumps(record, indent=1, sort_keys=True))
        line = (f'{P.pool} unlabeled + {P.train} labeled crops, {len(TEST_SETS)} test sets '
                f'x {P.test} with glyph masks; {len(record["train"])} training and '
                f'{len(record["heldout"])} held-out font families')
        return dict(line=line, sizes=sizes, commands=commands, fonts=str(fonts),
                    pool=str(self.data / 'pool' / 'lmdb' / 'pretrain'), finetune=str(ft))

    # ------------------------------------------------------------------ shared: training
    @staticmethod
    def _config(config: str):
        from mnsp_mm.apis import load_config
        return load_config(str(REPO / config))

    def _dump(self, config: str, name: str, options: dict, stage_dir: Path) -> Path:
        """The stage's config with its overrides applied, as a file ``tools/train.py`` takes.

        Its ``work_dir`` is ``<stage_dir>/rerun``: a rerun from the report's command (or any
        tool run on the file) writes beside the stage's results, never over them or over
        another stage's.
        """
        from mnsp_mm.apis import load_config
        cfg = load_config(str(REPO / config), cfg_options=options,
                          work_dir=str(stage_dir / 'rerun'))
        self.configs.mkdir(parents=True, exist_ok=True)
        path = self.configs / f'{name}.py'
        cfg.dump(str(path))
        return path

    def _runner(self, config: Path, stage_dir: Path, desc: str):
        from mnsp_mm.apis import build_runner, load_config
        from mnsp_mm.engine.progress import ProgressHook
        cfg = load_config(str(config), work_dir=str(stage_dir), resume='auto')
        cfg.log_level = 'WARNING'  # the bars and one line per stage; full logs in the work dir
        runner = build_runner(cfg)
        runner.register_hook(ProgressHook(desc, stage_dir / 'losses.jsonl',
                                          disable=self.args.no_progress,
                                          position=self.bar_position))
        return runner

    @staticmethod
    def _train_command(config: Path) -> str:
        return f'python tools/train.py {config}  # work dir: <stage>/rerun, from the config'

    # ------------------------------------------------------------------ stage 2: pretraining
    def pretrain(self, algo: str) -> Callable[[Path], dict]:
        def stage(stage_dir: Path) -> dict:
            from mnsp_mm.engine.progress import read_losses
            P = self.profile
            iters = getattr(P, f'{algo}_iters')
            options = {'train_dataloader.dataset.sources': [
                dict(type='lmdb', path=self.records['render']['pool'])],
                'train_dataloader.batch_size': P.pretrain_batch, **run_options(iters,
                                                                               self.args.seed)}
            if algo != 'mae':
                # the frozen teacher, and the student's starting point: LMIM and MNSP get a
                # fifth of MAE's iterations here, so they continue from MAE rather than
                # compare 200 steps from random weights with MAE's 1000
                mae = self.records['pretrain_mae']['checkpoint']
                options['model.target_generator.checkpoint'] = mae
                options['model.backbone.pretrained'] = mae
            config = self._dump(CONFIGS[algo], f'pretrain_{algo}', options, stage_dir)
            self._runner(config, stage_dir, f'pretrain {LABELS[algo]}').train()
            losses = [r['loss'] for r in read_losses(stage_dir / 'losses.jsonl')]
            k = max(1, len(losses) // 10)
            first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
            return dict(line=f'{LABELS[algo]}: {iters} iters x {P.pretrain_batch}, loss '
                        f'{first:.3f} -> {last:.3f} (mean of first/last {k})',
                        checkpoint=str(stage_dir / f'iter_{iters}.pth'), config=str(config),
                        iters=iters, loss_first=first, loss_last=last,
                        commands=[self._train_command(config)])
        return stage

    # ------------------------------------------------------------------ stage 3: fine-tuning
    def finetune(self, init: str) -> Callable[[Path], dict]:
        def stage(stage_dir: Path) -> dict:
            P, ft = self.profile, self.records['render']['finetune']
            pretrained = (None if init == 'scratch'
                          else self.records[f'pretrain_{init}']['checkpoint'])
            options = {'train_dataloader.dataset.data_root': ft,
                       'train_dataloader.batch_size': P.finetune_batch,
                       'model.backbone.pretrained': pretrained,
                       **run_options(P.finetune_iters, self.args.seed)}
            options.update({f'test_dataloader.dataset.datasets.{i}.data_root': ft
                            for i in range(len(TEST_SETS))})
            preds = stage_dir / 'predictions'  # per-crop predictions, one jsonl per test set
            scorers = self._config(CONFIGS[finetune_config(init)]).test_evaluator.metrics
            dump = next(i for i, m in enumerate(scorers) if m['type'] == 'TextPredictionDump')
            options['test_evaluator.metrics'] = [dict(m, out_dir=str(preds)) if i == dump else m
                                                 for i, m in enumerate(scorers)]
            config = self._dump(CONFIGS[finetune_config(init)], f'finetune_{init}', options,
                                stage_dir)
            runner = self._runner(config, stage_dir, f'fine-tune from {LABELS[init]}')
            runner.train()
            metrics = {k: float(v) for k, v in runner.test().items()}
            ckpt = stage_dir / f'iter_{P.finetune_iters}.pth'
            counts = {name: P.test for name in TEST_SETS}
            metrics_file = stage_dir / 'test_metrics.json'
            metrics_file.write_text(json.dumps(dict(
                config=str(config), checkpoint=str(ckpt), metrics=metrics, counts=counts),
                indent=2))
            key = 'recog/word_acc_ignore_case_symbol'
            mean = sum(metrics[f'{n}/{key}'] for n in TEST_SETS) / len(TEST_SETS)
            return dict(line=f'from {LABELS[init]}: {P.finetune_iters} iters x '
                        f'{P.finetune_batch} on {P.train} labels; mean WAICS over '
                        f'{len(TEST_SETS)} test sets {100 * mean:.1f}%',
                        checkpoint=str(ckpt), config=str(config), metrics=str(metrics_file),
                        predictions=str(preds),
                        commands=[self._train_command(config),
                                  f'python tools/test.py {config} {ckpt} --work-dir '
                                  f'{stage_dir / "retest"} --cfg-options test_evaluator.'
                                  f'metrics.{dump}.out_dir={stage_dir / "retest" / "preds"}'])
        return stage

    # ------------------------------------------------------------------ reference reader
    def reference(self, stage_dir: Path) -> dict:
        """Tesseract on every test crop, when it is installed: a fixed point of reference."""
        from mnsp_mm.evaluation.tesseract import read_textrecog_set, tesseract_version
        version = tesseract_version()
        if version is None:
            return dict(line='tesseract: not installed (Debian tesseract-ocr)', installed=False)
        ft = Path(self.records['render']['finetune'])
        for name in TEST_SETS:
            read_textrecog_set(ft, f'textrecog_{name}.json',
                               stage_dir / 'predictions' / f'{name}.jsonl')
        return dict(line=f'{version} (--psm 7, 3x bicubic upscale) read every test crop',
                    installed=True, version=version, predictions=str(stage_dir / 'predictions'),
                    commands=[f'python tools/analysis/tesseract_read.py {ft} {name} '
                              f'{stage_dir / "predictions"}' for name in TEST_SETS])

    # ------------------------------------------------------------------ stage 4: attention
    def attention(self, stage_dir: Path) -> dict:
        sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
        import attention_maps
        data = Path(self.records['render']['finetune']) / 'textrecog_regular.json'
        encoders = [(f'finetuned_{i}', self.records[f'finetune_{i}']) for i in INITS]
        encoders += [(f'pretrained_{a}', self.records[f'pretrain_{a}']) for a in PRETRAIN]
        results, commands = {}, []
        for name, rec in encoders:
            argv = [rec['config'], rec['checkpoint'], '--data', str(data), '--num',
                    str(self.profile.attention_images), '--out', str(stage_dir), '--name',
                    name, '--scales', *ATTENTION_SCALES]
            with contextlib.redirect_stdout(io.StringIO()):  # the report shows the numbers
                res = attention_maps.run(attention_maps.parse_args(argv))
            results[name] = dict(png=res['grid_png'], scales=res['scales'])
            commands.append('python tools/analysis/attention_maps.py ' + ' '.join(argv))
        full = ATTENTION_SCALES[-1]
        shown = ', '.join(f'{n.split("_", 1)[1]} {100 * r["scales"][full]["text_attention_fraction"]:.0f}%'
                          for n, r in results.items() if n.startswith('finetuned'))
        return dict(line=f'attention on text at {full} (fine-tuned): {shown}',
                    encoders=results, commands=commands)


def main(argv=None):
    args = parse_args(argv)
    study = Study(args)
    t0 = time.perf_counter()
    print(f'[demo] profile {args.profile}, seed {args.seed}, work dir {args.work_dir}')
    study.run('render', study.render)
    study.run('pretrain_mae', study.pretrain('mae'), ('render', ), CONFIGS['mae'])
    # the rest side by side (--jobs): LMIM's step is mostly its guidance augmentation in
    # Python, and one thread per tiny model beats two threads per model (README)
    stages = [(f'pretrain_{a}', ('render', 'pretrain_mae'), CONFIGS[a]) for a in PRETRAIN[1:]]
    stages += [(f'finetune_{i}', ('render', ) + (() if i == 'scratch' else (f'pretrain_{i}', )),
                CONFIGS[finetune_config(i)]) for i in INITS]
    stages.append(('reference', ('render', ), None))  # Tesseract: one core for a few minutes
    study.run_stages(stages)
    study.run('attention', study.attention, tuple(f'finetune_{i}' for i in INITS)
              + tuple(f'pretrain_{a}' for a in PRETRAIN))
    from mnsp_mm.utils.demo_report import write_report
    report = write_report(study.root, args.profile, study.profile, study.records,
                          TEST_SETS, INITS, LABELS, time.perf_counter() - t0, argv_line(args))
    print(f'[report] {report}')
    print(f'[demo] done in {time.perf_counter() - t0:.0f}s')


def _stage_in_worker(args, records: Dict[str, dict], name: str, threads: int):
    """One training stage in a worker process: ``(summary, seconds)``."""
    import multiprocessing

    import cv2
    import torch
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # OpenCV's own pool would take every core
    study = Study(args)
    study.records = dict(records)
    identity = multiprocessing.current_process()._identity
    study.bar_position = identity[0] if identity else 0
    start = time.perf_counter()
    summary = study.stage_fn(name)(study.root / name)
    return summary, time.perf_counter() - start


def argv_line(args) -> str:
    """The command that reproduces this whole run."""
    return (f'python tools/demo.py{" --quick" if args.quick else ""} --work-dir {args.work_dir}'
            f' --seed {args.seed}')


if __name__ == '__main__':
    main()
