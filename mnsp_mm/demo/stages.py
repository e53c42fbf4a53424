"""The demo's stages: what each one renders, trains, tests or measures, and what it records."""
import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Callable, Dict, List

from .plan import METHODS, FinetuneRun, PretrainRun, build_plan, row_label
from .profiles import (ATTENTION_SCALES, LONG_TEXT, POOL_PRESET, PROFILES, REPO, TEST_SETS,
                       TEST_TEXT, TEXT, TRAIN_PRESET, run_options)
from .scheduler import StageScheduler


class Study(StageScheduler):
    """The stages of a profile: render, pretrain every method from random weights with the
    same budget, fine-tune and test every row, Tesseract, diagnostics, attention."""

    def __init__(self, args):
        profile = PROFILES[args.profile]
        self.pretrain_runs, self.finetune_runs = build_plan(
            profile.methods, profile.pretrain_seeds, profile.finetune_seeds, profile.recipes)
        self._stage_fns = {r.stage: self.pretrain(r) for r in self.pretrain_runs}
        self._stage_fns.update({r.stage: self.finetune(r) for r in self.finetune_runs})
        self._stage_fns['reference'] = self.reference
        super().__init__(args, profile)
        self.data = self.root / 'data'
        self.configs = self.root / 'configs'

    def stage_names(self) -> List[str]:
        return ['render', *self._stage_fns, 'diagnostics', 'attention']

    def run_all(self) -> None:
        """Every stage: render; then the training stages side by side (``--jobs``; one
        thread per tiny model beats two threads per model), each once what it needs is done
        (LMIM and MNSP wait for their MAE teacher, a fine-tune for its encoder), and the
        Tesseract reference; then the diagnostics and the attention maps."""
        self.run('render', self.render)
        stages = [(r.stage, ('render', ) + ((r.teacher_stage, ) if r.teacher_stage else ()),
                   METHODS[r.method].config) for r in self.pretrain_runs]
        stages += [(r.stage, ('render', ) + ((r.pretrain.stage, ) if r.pretrain else ()),
                    r.config) for r in self.finetune_runs]
        stages.append(('reference', ('render', ), None))  # Tesseract: one core, minutes
        self.run_stages(stages)
        pretrained = tuple(r.stage for r in self.pretrain_runs)
        self.run('diagnostics', self.diagnostics, ('render', ) + pretrained)
        self.run('attention', self.attention,
                 tuple(r.stage for r in self.attention_finetunes()) + pretrained)

    def stage_fn(self, name: str) -> Callable[[Path], dict]:
        """The function of a stage run by :meth:`run_stages` (a pretraining or fine-tuning
        run of the plan, or ``reference``)."""
        return self._stage_fns[name]

    def attention_finetunes(self) -> List[FinetuneRun]:
        """The fine-tuned recognisers whose attention is drawn: each row's first run."""
        first = {}
        for r in self.finetune_runs:
            first.setdefault(r.row, r)
        return list(first.values())

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
        """A config by its path in the checkout (or an absolute path)."""
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
    def pretrain_options(self, run: PretrainRun) -> dict:
        """Config overrides of a pretraining run: the pool, the common budget (the same
        images seen for every method), the schedule, the seed and the teacher, if any."""
        P = self.profile
        options = {'train_dataloader.dataset.sources': [
            dict(type='lmdb', path=self.records['render']['pool'])],
            'train_dataloader.batch_size': P.pretrain_batch,
            **run_options(self.pretrain_iters(run), self.args.seed + run.seed)}
        if run.teacher_stage:  # the student starts from random weights, as in the LMIM code
            options['model.target_generator.checkpoint'] = \
                self.records[run.teacher_stage]['checkpoint']
        return options

    def pretrain_iters(self, run: PretrainRun) -> int:
        """The common budget (x the method's multiple: 1 but for the budget ablation)."""
        return self.profile.pretrain_iters * METHODS[run.method].budget

    def pretrain(self, run: PretrainRun) -> Callable[[Path], dict]:
        def stage(stage_dir: Path) -> dict:
            from ..bench.flops import pretrain_flops
            from ..engine.progress import read_losses
            P, method, iters = self.profile, METHODS[run.method], self.pretrain_iters(run)
            config = self._dump(method.config, run.stage, self.pretrain_options(run),
                                stage_dir)
            runner = self._runner(config, stage_dir, f'pretrain {method.label} s{run.seed}')
            runner.train()
            flops = pretrain_flops(runner.model, 'cpu')  # per image, by mmengine's counter
            records = read_losses(stage_dir / 'losses.jsonl')
            k = max(1, len(records) // 10)
            terms = sorted({t for r in records for t in r if t.startswith('loss')})
            first = {t: sum(r.get(t, 0.0) for r in records[:k]) / k for t in terms}
            last = {t: sum(r.get(t, 0.0) for r in records[-k:]) / k for t in terms}
            images = iters * P.pretrain_batch
            return dict(line=f'{method.label} (seed {run.seed}): {iters} iters x '
                        f'{P.pretrain_batch} from random weights, loss {first["loss"]:.3f} -> '
                        f'{last["loss"]:.3f} (mean of first/last {k})',
                        checkpoint=str(stage_dir / f'iter_{iters}.pth'),
                        config=str(config), method=run.method, seed=run.seed,
                        teacher_stage=run.teacher_stage, iters=iters,
                        images_seen=images, gflop_per_image=flops['train_gflop'],
                        teacher_gmac_per_image=flops['teacher_gmac'],
                        train_gflop=images * flops['train_gflop'],
                        loss_first=first['loss'], loss_last=last['loss'],
                        terms_first=first, terms_last=last,
                        commands=[self._train_command(config)])
        return stage

    # ------------------------------------------------------------------ stage 3: fine-tuning
    def finetune(self, run: FinetuneRun) -> Callable[[Path], dict]:
        def stage(stage_dir: Path) -> dict:
            P, ft = self.profile, self.records['render']['finetune']
            pretrained = (self.records[run.pretrain.stage]['checkpoint'] if run.pretrain
                          else None)
            options = {'train_dataloader.dataset.data_root': ft,
                       'train_dataloader.batch_size': P.finetune_batch,
                       'model.backbone.pretrained': pretrained,
                       **run_options(run.iters(P.finetune_iters), self.args.seed + run.seed)}
            options.update({f'test_dataloader.dataset.datasets.{i}.data_root': ft
                            for i in range(len(TEST_SETS))})
            preds = stage_dir / 'predictions'  # per-crop predictions, one jsonl per test set
            scorers = self._config(run.config).test_evaluator.metrics
            dump = next(i for i, m in enumerate(scorers) if m['type'] == 'TextPredictionDump')
            options['test_evaluator.metrics'] = [dict(m, out_dir=str(preds)) if i == dump else m
                                                 for i, m in enumerate(scorers)]
            config = self._dump(run.config, run.stage, options, stage_dir)
            label = row_label(run.row)
            runner = self._runner(config, stage_dir, f'fine-tune {label} '
                                  f'p{run.pretrain_seed}f{run.seed}')
            runner.train()
            metrics = {k: float(v) for k, v in runner.test().items()}
            iters = run.iters(P.finetune_iters)
            ckpt = stage_dir / f'iter_{iters}.pth'
            counts = {name: P.test for name in TEST_SETS}
            metrics_file = stage_dir / 'test_metrics.json'
            metrics_file.write_text(json.dumps(dict(
                config=str(config), checkpoint=str(ckpt), metrics=metrics, counts=counts),
                indent=2))
            key = 'recog/word_acc_ignore_case_symbol'
            mean = sum(metrics[f'{n}/{key}'] for n in TEST_SETS) / len(TEST_SETS)
            return dict(line=f'{label} (pretraining seed {run.pretrain_seed}, fine-tuning '
                        f'seed {run.seed}): {iters} iters x {P.finetune_batch} on '
                        f'{P.train} labels; mean WAICS over {len(TEST_SETS)} test sets '
                        f'{100 * mean:.1f}%',
                        row=run.row, pretrain_seed=run.pretrain_seed, seed=run.seed,
                        iters=iters,
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

    # ------------------------------------------------------------------ diagnostics
    def probe_annotations(self, stage_dir: Path) -> Dict[str, Path]:
        """The probes' two annotation files: the first ``probe_train`` training crops and the
        next ``probe_test``, with absolute image paths (they live in ``stage_dir``)."""
        P = self.profile
        ft = Path(self.records['render']['finetune'])
        entries = json.loads((ft / 'textrecog_train.json').read_text())
        data = entries['data_list']
        if len(data) < P.probe_train + P.probe_test:
            raise ValueError(f'Profile.probe_train + probe_test = {P.probe_train + P.probe_test}'
                             f' crops, but {ft / "textrecog_train.json"} has {len(data)}')
        files = {}
        for part, rows in (('train', data[:P.probe_train]),
                           ('test', data[P.probe_train:P.probe_train + P.probe_test])):
            files[part] = stage_dir / f'probe_{part}.json'
            rows = [dict(e, img_path=str((ft / e['img_path']).resolve())) for e in rows]
            files[part].write_text(json.dumps(dict(entries, data_list=rows)))
        return files

    def diagnostics(self, stage_dir: Path) -> dict:
        """Label-free diagnostics of every pretrained encoder and of a random-weight one:
        linear probes on frozen features (first character, length) and feature collapse."""
        from mmengine.logging import MMLogger

        from ..analysis.encoder_probe import probe_encoder
        P, files = self.profile, self.probe_annotations(stage_dir)
        encoders = [('random', self.records[self.pretrain_runs[0].stage]['config'], None)]
        encoders += [(r.stage, self.records[r.stage]['config'], self.records[r.stage]['checkpoint'])
                     for r in self.pretrain_runs]
        results, commands = {}, []
        MMLogger.get_current_instance().setLevel('WARNING')  # not a line per initialised weight
        for name, config, checkpoint in encoders:
            results[name] = probe_encoder(self._config(config), checkpoint, files['train'],
                                          files['test'], P.probe_train, P.probe_test,
                                          seed=self.args.seed)
            commands.append(f'python tools/analysis/probe_encoder.py {config} '
                            f'{checkpoint or ""} --train {files["train"]} --test '
                            f'{files["test"]} --num-train {P.probe_train} --num-test '
                            f'{P.probe_test} --out {stage_dir / (name + ".json")}')
        out = stage_dir / 'diagnostics.json'
        out.write_text(json.dumps(results, indent=1))
        rnd, best = results['random']['first_char']['value'], max(
            results, key=lambda n: results[n]['first_char']['value'])
        return dict(line=f'first-character probe: random weights {100 * rnd:.1f}%, best '
                    f'{best} {100 * results[best]["first_char"]["value"]:.1f}%',
                    results=str(out), commands=commands)

    # ------------------------------------------------------------------ stage 4: attention
    def attention(self, stage_dir: Path) -> dict:
        from argparse import Namespace

        from ..analysis.attention_maps import run
        data = Path(self.records['render']['finetune']) / 'textrecog_regular.json'
        encoders = [r.stage for r in self.attention_finetunes()]
        encoders += [r.stage for r in self.pretrain_runs]
        results, commands, full = {}, [], ATTENTION_SCALES[-1]
        for name in encoders:
            rec = self.records[name]
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
            per_image = [(i['text_attention_fraction'][full], i['chance'][full])
                         for i in res['images'] if i['text_attention_fraction'][full] is not None]
            results[name] = dict(png=res['grid_png'], scales=res['scales'],
                                 fraction=[f for f, _ in per_image],
                                 chance=[c for _, c in per_image])
            commands.append('python tools/analysis/attention_maps.py ' + ' '.join(argv))
        shown = ', '.join(f'{n} {100 * r["scales"][full]["text_attention_fraction"]:.0f}%'
                          for n, r in results.items() if n.startswith('finetune'))
        return dict(line=f'attention on text at {full} (fine-tuned): {shown}',
                    encoders=results, commands=commands)
