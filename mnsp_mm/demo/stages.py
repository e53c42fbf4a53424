"""The demo's stages: what each one renders, trains, tests or measures, and what it records."""
import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Callable, Dict, List

from .plan import METHODS, FinetuneRun, PretrainRun, build_plan, row_label
from .profiles import (ATTENTION_SCALES, LONG_TEXT, POOL_PRESET, PROFILES, REPO, TEST_SETS,
                       TEST_TEXT, TEXT, TRAIN_PRESET, VAL_SEED, VAL_SETS, VAL_TEXT, run_options)
from .scheduler import StageScheduler


class Study(StageScheduler):
    """The stages of a profile: render, pretrain every method from random weights with the
    same budget, fine-tune and test every row, Tesseract, diagnostics, attention."""

    def __init__(self, args):
        profile = PROFILES[args.profile]
        self.pretrain_runs, self.finetune_runs = build_plan(
            profile.methods, profile.pretrain_seeds, profile.finetune_seeds, profile.recipes,
            profile.recipe_seeds)
        self._stage_fns = {r.stage: self.pretrain(r) for r in self.pretrain_runs}
        self._stage_fns.update({r.stage: self.finetune(r) for r in self.finetune_runs})
        self._stage_fns['reference'] = self.reference
        if profile.reading_probe:
            self._stage_fns.update({f'probe_{e}': self.probe(e) for e in ['random'] + [
                r.stage for r in self.pretrain_runs]})
        super().__init__(args, profile)
        self.data = self.root / 'data'
        self.configs = self.root / 'configs'

    def stage_names(self) -> List[str]:
        return ['render', 'validation', *self._stage_fns, 'diagnostics', 'attention']

    def stage_identity(self, name: str) -> dict:
        """What a stage depends on besides its profile, seed and config file: a method's
        config overrides and teacher, a recipe's labels, overrides, re-initialised parts
        and split (empty for the plain rows, so adding this left their stages done)."""
        for r in self.pretrain_runs:
            m = METHODS[r.method]
            if r.stage == name and (m.options or m.teacher_method != 'mae'):
                return dict(options=[list(o) for o in m.options], teacher=m.teacher_method)
        for r in self.finetune_runs:
            spec = r.recipe_spec
            if r.stage == name and (spec.labels or spec.options or spec.reinit
                                    or spec.split != 'test'):
                return dict(labels=spec.labels, options=[list(o) for o in spec.options],
                            reinit=list(spec.reinit), split=spec.split)
        return {}

    def run_all(self) -> None:
        """Every stage: render; then the training stages side by side (``--jobs``; one
        thread per tiny model beats two threads per model), each once what it needs is done
        (LMIM and MNSP wait for their MAE teacher, a fine-tune for its encoder), and the
        Tesseract reference; then the diagnostics, the reading probe and the attention maps.
        With ``--only``, the stages it names and what they need, nothing else."""
        stages = [(r.stage, ('render', ) + ((r.teacher_stage, ) if r.teacher_stage else ()),
                   METHODS[r.method].config) for r in self.pretrain_runs]
        # the probes next: they are cheap and the pretraining choices are read off them
        stages += [(name, ('render', 'validation') + ((name[len('probe_'):], )
                                                      if name != 'probe_random' else ()), None)
                   for name in self.probe_stage_names()]
        stages += [(r.stage, ('render', ) + ((r.pretrain.stage, ) if r.pretrain else ())
                    + (('validation', ) if r.recipe_spec.split == 'val' else ()),
                    r.config) for r in self.finetune_runs]
        stages.append(('reference', ('render', ), None))  # Tesseract: one core, minutes
        pretrained = tuple(r.stage for r in self.pretrain_runs)
        analysis = [('diagnostics', self.diagnostics, ('render', ) + pretrained),
                    ('attention', self.attention,
                     tuple(r.stage for r in self.attention_finetunes()) + pretrained)]
        wanted = self.selected({name: deps for name, deps, _ in stages}
                               | {name: deps for name, _, deps in analysis})
        self.run('render', self.render)
        if 'validation' in wanted:
            self.run('validation', self.validation, ('render', ))
        self.run_stages([st for st in stages if st[0] in wanted])
        for name, fn, deps in analysis:
            if name in wanted:
                self.run(name, fn, deps)

    def selected(self, depends: Dict[str, tuple]) -> set:
        """The stages to run: all, or those ``--only`` names (shell patterns) with every
        stage they need, transitively."""
        depends = dict(depends, validation=('render', ), render=())
        only = getattr(self.args, 'only', None)
        if not only:
            return {n for n in depends if n != 'validation' or self.uses_validation()}
        import fnmatch
        todo = [n for n in depends if any(fnmatch.fnmatchcase(n, p) for p in only)]
        if not todo:
            raise SystemExit(f'--only {" ".join(only)}: no stage matches; stages are '
                             f'{self.stage_names()}')
        wanted = set()
        while todo:
            name = todo.pop()
            if name not in wanted:
                wanted.add(name)
                todo += list(depends.get(name, ()))
        return wanted

    def stage_fn(self, name: str) -> Callable[[Path], dict]:
        """The function of a stage run by :meth:`run_stages` (a pretraining or fine-tuning
        run of the plan, or ``reference``)."""
        return self._stage_fns[name]

    def attention_finetunes(self) -> List[FinetuneRun]:
        """The fine-tuned recognisers whose attention is drawn: the first run of each row
        read on the test sets (the validation rows are read by their tables only)."""
        first = {}
        for r in self.finetune_runs:
            if r.recipe_spec.split == 'test':
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

    def uses_validation(self) -> bool:
        """The profile has validation-split rows or the reading probe (which reads it)."""
        return bool(self.profile.reading_probe) or any(
            r.recipe_spec.split == 'val' for r in self.finetune_runs)

    def validation(self, stage_dir: Path) -> dict:
        """The validation split: every choice made by looking at results is made on it.

        Crops of its own seed (``--seed + VAL_SEED`` + i), out-of-vocabulary like the test
        sets' headline (held-out words, random strings and numbers), every training font;
        one set per renderer preset of :data:`VAL_SETS`.
        """
        from dataclasses import replace

        from .. import synth
        out = Path(self.records['render']['finetune'])
        sets, commands = {}, []
        for i, preset in enumerate(VAL_SETS):
            cfg = replace(synth.preset(preset), **dict(
                VAL_TEXT, text_kinds=synth.parse_text_kinds(VAL_TEXT['text_kinds'])), fonts=())
            seed, name = self.args.seed + VAL_SEED + i, f'val_{preset}'
            synth.write_dataset(out, synth.iter_samples(self.profile.test, seed, cfg),
                                ('json', ), True, True, name)
            sets[name] = str(out / f'textrecog_{name}.json')
            commands.append(
                f'python tools/render_synth.py --out {out} --num {self.profile.test} --seed '
                f'{seed} --profile {preset} --min-len {cfg.min_len} --max-len {cfg.max_len} '
                f'--text-kinds {VAL_TEXT["text_kinds"]} --vocab {cfg.vocab} --fold-labels '
                f'--all-fonts --format json --name {name} --masks')
        return dict(line=f'validation split: {len(sets)} sets x {self.profile.test} crops '
                    f'(seeds {self.args.seed + VAL_SEED}+)', sets=sets, commands=commands)

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
            **run_options(self.pretrain_iters(run), self.args.seed + run.seed),
            **dict(METHODS[run.method].options)}
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
            spec = run.recipe_spec
            pretrained = (self.records[run.pretrain.stage]['checkpoint'] if run.pretrain
                          else None)
            if spec.reinit:
                pretrained = self._reinit(run, pretrained, stage_dir)
            options = {'train_dataloader.dataset.data_root': ft,
                       'train_dataloader.batch_size': P.finetune_batch,
                       'model.backbone.pretrained': pretrained,
                       **run_options(run.iters(P.finetune_iters), self.args.seed + run.seed),
                       **dict(spec.options)}
            if spec.labels:  # mmengine's BaseDataset: an int keeps the first N entries
                options['train_dataloader.dataset.indices'] = spec.labels
            sets = self.eval_sets(run)
            cfg = self._config(run.config)
            if spec.split == 'val':  # the validation sets in place of the test sets
                options['test_dataloader.dataset.datasets'] = [
                    dict(cfg.test_dataloader.dataset.datasets[0].to_dict(), data_root=ft,
                         ann_file=f'textrecog_{n}.json') for n in sets]
                options['test_evaluator.dataset_prefixes'] = list(sets)
            else:
                options.update({f'test_dataloader.dataset.datasets.{i}.data_root': ft
                                for i in range(len(sets))})
            preds = stage_dir / 'predictions'  # per-crop predictions, one jsonl per test set
            scorers = cfg.test_evaluator.metrics
            dump = next(i for i, m in enumerate(scorers) if m['type'] == 'TextPredictionDump')
            options['test_evaluator.metrics'] = [
                dict(m, out_dir=str(preds), **({'dataset_prefixes': list(sets)} if 'dataset_prefixes'
                                               in m else {})) if i == dump else m
                for i, m in enumerate(scorers)]
            config = self._dump(run.config, run.stage, options, stage_dir)
            label = row_label(run.row)
            runner = self._runner(config, stage_dir, f'fine-tune {label} '
                                  f'p{run.pretrain_seed}f{run.seed}')
            runner.train()
            metrics = {k: float(v) for k, v in runner.test().items()}
            iters = run.iters(P.finetune_iters)
            ckpt = stage_dir / f'iter_{iters}.pth'
            counts = {name: P.test for name in sets}
            metrics_file = stage_dir / 'test_metrics.json'
            metrics_file.write_text(json.dumps(dict(
                config=str(config), checkpoint=str(ckpt), metrics=metrics, counts=counts),
                indent=2))
            key = 'recog/word_acc_ignore_case_symbol'
            mean = sum(metrics[f'{n}/{key}'] for n in sets) / len(sets)
            return dict(line=f'{label} (pretraining seed {run.pretrain_seed}, fine-tuning '
                        f'seed {run.seed}): {iters} iters x {P.finetune_batch} on '
                        f'{spec.labels or P.train} labels; mean WAICS over {len(sets)} '
                        f'{"validation" if spec.split == "val" else "test"} sets '
                        f'{100 * mean:.1f}%', split=spec.split, sets=list(sets),
                        row=run.row, pretrain_seed=run.pretrain_seed, seed=run.seed,
                        iters=iters,
                        checkpoint=str(ckpt), config=str(config), metrics=str(metrics_file),
                        predictions=str(preds),
                        commands=[self._train_command(config),
                                  f'python tools/test.py {config} {ckpt} --work-dir '
                                  f'{stage_dir / "retest"} --cfg-options test_evaluator.'
                                  f'metrics.{dump}.out_dir={stage_dir / "retest" / "preds"}'])
        return stage

    @staticmethod
    def eval_sets(run: FinetuneRun) -> List[str]:
        """The sets a fine-tuned recogniser is tested on: the test sets or the validation
        split."""
        return ([f'val_{p}' for p in VAL_SETS] if run.recipe_spec.split == 'val'
                else list(TEST_SETS))

    def _reinit(self, run: FinetuneRun, checkpoint: str, stage_dir: Path) -> str:
        """The encoder with the recipe's parts re-initialised (seeded by the fine-tuning
        seed), written into the stage dir."""
        from ..analysis.reinit import save_reinit
        out = stage_dir / 'reinit_encoder.pth'
        if not out.is_file():
            save_reinit(self._config(run.config), checkpoint, run.recipe_spec.reinit, out,
                        seed=self.args.seed + run.seed)
        return str(out)

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

    def probe_stage_names(self) -> List[str]:
        """``probe_random`` and ``probe_<pretraining stage>`` for every encoder, if the
        profile has the reading probe."""
        return [n for n in self._stage_fns if n.startswith('probe_')]

    def probe(self, encoder: str) -> Callable[[Path], dict]:
        """The reading probe (``mnsp_mm/analysis/reading_probe.py``) of one encoder (a
        pretraining stage, or ``random``): CTC heads trained on the frozen tokens of the
        first ``Profile.reading_probe`` training crops, scored on the validation split's
        out-of-vocabulary crops; and the encoder's weight and activation scales."""
        def stage(stage_dir: Path) -> dict:
            from mmengine.logging import MMLogger

            from ..analysis.encoder_scales import encoder_scales
            from ..analysis.reading_probe import reading_probe
            from ..evaluation.reading import training_labels
            P, ft = self.profile, Path(self.records['render']['finetune'])
            train, sets = ft / 'textrecog_train.json', self.records['validation']['sets']
            config = (self.records[encoder]['config'] if encoder != 'random'
                      else str(REPO / METHODS['mae'].config))  # the same backbone
            checkpoint = self.records[encoder]['checkpoint'] if encoder != 'random' else None
            MMLogger.get_current_instance().setLevel('WARNING')
            cfg = self._config(config)
            result = reading_probe(cfg, checkpoint, train, P.reading_probe, sets, P.test,
                                   set(training_labels(train)), seed=self.args.seed)
            result['scales'] = encoder_scales(cfg, checkpoint, next(iter(sets.values())),
                                              num=64, seed=self.args.seed)
            out = stage_dir / 'probe.json'
            out.write_text(json.dumps(result))
            lin, blk = result['linear'], result['block']
            return dict(line=f'reading probe of {encoder} (validation OOV WAICS): linear '
                        f'{100 * lin["value"]:.1f}%, 1-block {100 * blk["value"]:.1f}%',
                        encoder=encoder, results=str(out),
                        commands=[f'python tools/analysis/reading_probe.py {config} '
                                  f'{checkpoint or ""} --train {train} --num-train '
                                  f'{P.reading_probe} --test {" ".join(sets.values())} '
                                  f'--num-test {P.test} --exclude-vocab {train} --out {out}'])
        return stage

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
