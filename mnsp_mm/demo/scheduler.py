"""Running stages: a cache of finished stages, reruns of stale ones, stages side by side.

Each stage writes ``<work-dir>/<stage>/done.json``; a rerun skips finished stages, redoes a
stage whose parameters changed (profile, seed, the content of its config) or that
``--force`` names, and everything that depends on a redone stage. Stages side by side run in
spawned processes (the parent already runs torch threads) with ``cpu_count // jobs``
threads each; results, checkpoints and resuming are the same as in one process.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from .profiles import REPO

PLAN_FIELDS = ('methods', 'pretrain_seeds', 'finetune_seeds', 'recipes', 'recipe_seeds')
# profile fields only the analysis stages read: a change redoes those alone
ANALYSIS_FIELDS = {'diagnostics': ('probe_train', 'probe_test'),
                   'attention': ('attention_images', ), 'probe': ('reading_probe', )}
# The paths in the demo configs' content that the configs layout of issue #26 renamed (the
# demo's dictionary, the tiny MAE's default work dir) count under their old names: the stage
# params stay those of the work dirs made before it (a stale stage is deleted and redone).
HASHED_UNDER_OLD_NAMES = {
    '/configs/demo/../_base_/textrecog/dicts/': '/configs/demo/../finetune/_base_/dicts/',
    'work_dirs/mae_text-vit-tiny_1xb16-coslr-20iter_synth/':
        'work_dirs/mae_text-vit-tiny_synth-cpu/',
}


def config_hash(content: dict) -> str:
    """The hash of a config's content (its dict, ``_base_`` files merged) that a stage's
    params hold."""
    text = json.dumps(content, sort_keys=True, default=repr)
    # ``{{ fileDirname }}`` puts the checkout's path in the content: without this a work dir
    # run from another clone would redo (and first delete) every stage
    text = text.replace(str(REPO), '<checkout>')
    for new, old in HASHED_UNDER_OLD_NAMES.items():
        text = text.replace(new, old)
    return hashlib.sha1(text.encode()).hexdigest()


class StageScheduler:
    """Stages over one work dir: skip what is done, time what runs, remember how.

    A subclass names its stages (:meth:`stage_names`) and gives the function of each stage
    that :meth:`run_stages` schedules (:meth:`stage_fn`); ``args`` needs ``work_dir``,
    ``force``, ``seed`` and ``jobs``.
    """

    def __init__(self, args, profile):
        self.args = args
        self.profile = profile
        self.root = Path(args.work_dir)
        self.records: Dict[str, dict] = {}
        self.bar_position = 0  # terminal line of this process's bars (stages side by side)
        self.forced = set(args.force)
        unknown = self.forced - set(self.stage_names())
        if unknown:
            raise SystemExit(f'--force: unknown stage(s) {sorted(unknown)}; stages are '
                             f'{self.stage_names()}')

    @staticmethod
    def stage_names() -> List[str]:
        """Every stage, in order (``--force`` names are checked against it)."""
        raise NotImplementedError

    def params(self, config: Optional[str] = None, stage: Optional[str] = None) -> dict:
        """What a stage's output depends on; a change reruns the stage from scratch.

        Args:
            config: the stage's config file; its content (with its ``_base_`` files) counts.
            stage: the stage's name (the analysis fields count for their stage alone).
        """
        # which rows and seeds a profile has is the plan, not a stage's input: adding a row
        # leaves the other stages done; so does a change of what only an analysis reads
        skip = set(PLAN_FIELDS) | {f for name, fields in ANALYSIS_FIELDS.items()
                                   if name != stage and not (stage or '').startswith(name + '_')
                                   for f in fields}
        profile = {k: v for k, v in dataclasses.asdict(self.profile).items() if k not in skip}
        params = dict(profile=profile, seed=self.args.seed)
        if config:
            from mmengine.config import Config
            params['config'] = config_hash(Config.fromfile(str(REPO / config))._cfg_dict.to_dict())
        identity = self.stage_identity(stage) if stage else {}
        if identity:  # only where there is one: the plain stages' params stay as they were
            params['identity'] = identity
        return params

    def stage_identity(self, name: str) -> dict:
        """What stage ``name`` depends on that neither the profile nor its config file says
        (a subclass's per-stage overrides); ``{}`` for none."""
        return {}

    def _prepare(self, name: str, depends: tuple, config: Optional[str]) -> Optional[dict]:
        """Clear stage ``name`` if it is stale; its record if it is done, else None."""
        stage_dir = self.root / name
        done, params_file = stage_dir / 'done.json', stage_dir / 'params.json'
        params = self.params(config, name)
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
        """The function of a stage that :meth:`run_stages` runs."""
        raise NotImplementedError

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
                            _stage_in_worker, (type(self), self.args, self.records, name,
                                               threads))
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


def _stage_in_worker(cls, args, records: Dict[str, dict], name: str, threads: int):
    """One training stage in a worker process: ``(summary, seconds)``."""
    import multiprocessing

    import cv2
    import torch
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # OpenCV's own pool would take every core
    study = cls(args)
    study.records = dict(records)
    identity = multiprocessing.current_process()._identity
    study.bar_position = identity[0] if identity else 0
    start = time.perf_counter()
    summary = study.stage_fn(name)(study.root / name)
    return summary, time.perf_counter() - start
