"""The demo's stages: what each one renders, trains, tests or measures, and what it records."""
import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Callable, List

from .profiles import (ATTENTION_SCALES, CONFIGS, INITS, LABELS, LONG_TEXT, POOL_PRESET,
                       PRETRAIN, PROFILES, REPO, TEST_SETS, TEST_TEXT, TEXT, TRAIN_PRESET,
                       finetune_config, run_options)
from .scheduler import StageScheduler


class Study(StageScheduler):
    """The demo's stages: render, pretrain, fine-tune and test, reference reader, attention."""

    def __init__(self, args):
        super().__init__(args, PROFILES[args.profile])
        self.data = self.root / 'data'
        self.configs = self.root / 'configs'

    @staticmethod
    def stage_names() -> List[str]:
        return (['render'] + [f'pretrain_{a}' for a in PRETRAIN]
                + [f'finetune_{i}' for i in INITS] + ['reference', 'attention'])

    def run_all(self) -> None:
        """Every stage in order: render, MAE, then the rest side by side (``--jobs``; one
        thread per tiny model beats two threads per model), then attention."""
        self.run('render', self.render)
        self.run('pretrain_mae', self.pretrain('mae'), ('render', ), CONFIGS['mae'])
        stages = [(f'pretrain_{a}', ('render', 'pretrain_mae'), CONFIGS[a])
                  for a in PRETRAIN[1:]]
        stages += [(f'finetune_{i}',
                    ('render', ) + (() if i == 'scratch' else (f'pretrain_{i}', )),
                    CONFIGS[finetune_config(i)]) for i in INITS]
        stages.append(('reference', ('render', ), None))  # Tesseract: one core, minutes
        self.run_stages(stages)
        self.run('attention', self.attention, tuple(f'finetune_{i}' for i in INITS)
                 + tuple(f'pretrain_{a}' for a in PRETRAIN))

    def stage_fn(self, name: str) -> Callable[[Path], dict]:
        """The function of a stage run by :meth:`run_stages` (``pretrain_<algo>``,
        ``finetune_<init>`` or ``reference``)."""
        if name == 'reference':
            return self.reference
        kind, _, what = name.partition('_')
        return self.pretrain(what) if kind == 'pretrain' else self.finetune(what)

    # ------------------------------------------------------------------ stage 1: data
    def render(self, stage_dir: Path) -> dict:
        from dataclasses import replace

        from .. import synth
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
        from ..apis import load_config
        return load_config(str(REPO / config))

    def _dump(self, config: str, name: str, options: dict, stage_dir: Path) -> Path:
        """The stage's config with its overrides applied, as a file ``tools/train.py`` takes.

        Its ``work_dir`` is ``<stage_dir>/rerun``: a rerun from the report's command (or any
        tool run on the file) writes beside the stage's results, never over them or over
        another stage's.
        """
        from ..apis import load_config
        cfg = load_config(str(REPO / config), cfg_options=options,
                          work_dir=str(stage_dir / 'rerun'))
        self.configs.mkdir(parents=True, exist_ok=True)
        path = self.configs / f'{name}.py'
        cfg.dump(str(path))
        return path

    def _runner(self, config: Path, stage_dir: Path, desc: str):
        from ..apis import build_runner, load_config
        from ..engine.progress import ProgressHook
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
            from ..engine.progress import read_losses
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
        from ..evaluation.tesseract import read_textrecog_set, tesseract_version
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
        from argparse import Namespace

        from ..analysis.attention_maps import run
        data = Path(self.records['render']['finetune']) / 'textrecog_regular.json'
        encoders = [(f'finetuned_{i}', self.records[f'finetune_{i}']) for i in INITS]
        encoders += [(f'pretrained_{a}', self.records[f'pretrain_{a}']) for a in PRETRAIN]
        results, commands = {}, []
        for name, rec in encoders:
            options = Namespace(config=rec['config'], checkpoint=rec['checkpoint'],
                                data=str(data), num=self.profile.attention_images,
                                scales=[tuple(map(int, s.split('x'))) for s in ATTENTION_SCALES],
                                layer=-1, out=str(stage_dir), name=name, batch_size=32,
                                alpha=0.5, cmap='jet')  # tools/analysis/attention_maps.py's
            with contextlib.redirect_stdout(io.StringIO()):  # the report shows the numbers
                res = run(options)
            argv = [rec['config'], rec['checkpoint'], '--data', str(data), '--num',
                    str(self.profile.attention_images), '--out', str(stage_dir), '--name',
                    name, '--scales', *ATTENTION_SCALES]
            results[name] = dict(png=res['grid_png'], scales=res['scales'])
            commands.append('python tools/analysis/attention_maps.py ' + ' '.join(argv))
        full = ATTENTION_SCALES[-1]
        shown = ', '.join(f'{n.split("_", 1)[1]} {100 * r["scales"][full]["text_attention_fraction"]:.0f}%'
                          for n, r in results.items() if n.startswith('finetuned'))
        return dict(line=f'attention on text at {full} (fine-tuned): {shown}',
                    encoders=results, commands=commands)
