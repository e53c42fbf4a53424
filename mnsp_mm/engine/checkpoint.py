"""Checkpoints that a kill cannot break, and ``--resume`` that finds one that loads.

mmengine's ``CheckpointHook`` deletes the oldest checkpoint *before* it writes the new one,
writes the new file in place, and rewrites ``last_checkpoint`` in place. A kill in that window
(a paper-size checkpoint takes about 1.5 s to write on a CPU machine) leaves a truncated file,
and with ``max_keep_ckpts=1`` possibly no loadable checkpoint at all, with ``last_checkpoint``
pointing at the broken file (or empty).

:class:`AtomicCheckpointHook` (what ``build_runner`` puts in place of ``CheckpointHook``)
writes each checkpoint to a temporary name in the same folder, flushes and fsyncs it, renames
it into place, then updates ``last_checkpoint`` the same way, and only then deletes the
checkpoints that rotation drops, so at every instant the newest complete checkpoint is on disk
and named. :func:`find_resumable_checkpoint` is what ``--resume`` (without a path) uses: the
newest checkpoint of the work dir that loads, saying which newer ones it skipped and why.
"""
import logging
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from ..registry import register_hook

#: Suffix of a checkpoint being written (never matches ``*.pth``, so nothing loads it).
PARTIAL_SUFFIX = '.part'

_STEP = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: str, path: str) -> None:
    """Make the complete file ``tmp`` appear as ``path`` in one step (same folder).

    The data is fsynced before the rename and the folder after it, so after a crash the
    name refers either to the old file or to the complete new one.
    """
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(osp.dirname(osp.abspath(path)))


def atomic_write_text(path: str, text: str) -> None:
    """Write a small text file (``last_checkpoint``) so that it is never seen half-written."""
    tmp = path + PARTIAL_SUFFIX
    with open(tmp, 'w') as f:
        f.write(text)
    publish(tmp, path)


@register_hook()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe writes and rotation (same arguments).

    For a local ``out_dir``: the checkpoint is written as ``<name>.part``, fsynced and renamed
    to ``<name>``; ``last_checkpoint`` is replaced the same way after it; the checkpoint that
    ``max_keep_ckpts`` drops is deleted last. Other storage backends keep mmengine's behaviour.
    ``*.part`` files left by a killed run are deleted when training starts.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._is_local() and is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if name.endswith('.pth' + PARTIAL_SUFFIX):
                    os.remove(osp.join(self.out_dir, name))
                    print_log(f'removed {name}, a checkpoint that a previous run did not '
                              f'finish writing', logger='current', level=logging.WARNING)

    def _is_local(self) -> bool:
        return '://' not in str(self.out_dir) and self.file_client_args is None

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save checkpoint ``step``; the rotation of mmengine's version, in crash-safe order."""
        if not self._is_local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        dropped = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                dropped = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename + PARTIAL_SUFFIX, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():  # only the main process writes (Runner.save_checkpoint)
            return
        publish(self.last_ckpt + PARTIAL_SUFFIX, self.last_ckpt)
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if dropped is not None and dropped != step:
            old = osp.join(self.out_dir, self.filename_tmpl.format(dropped))
            if osp.isfile(old):
                os.remove(old)


def use_atomic_checkpoints(cfg) -> None:
    """Swap a config's ``default_hooks.checkpoint`` of type ``CheckpointHook`` for ours."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(hook, dict) and hook.get('type') in ('CheckpointHook',
                                                       'mmengine.CheckpointHook'):
        hook['type'] = 'AtomicCheckpointHook'


def _candidates(work_dir: str) -> List[str]:
    """``last_checkpoint``'s target first, then ``iter_N.pth`` / ``epoch_N.pth`` newest first."""
    found: List[Tuple[int, str]] = []
    for name in os.listdir(work_dir):
        match = _STEP.match(name)
        if match:
            found.append((int(match.group(1)), osp.join(work_dir, name)))
    paths = [p for _, p in sorted(found, reverse=True)]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            paths = [named] + [p for p in paths if osp.abspath(p) != osp.abspath(named)]
    return paths


def why_unloadable(path: str) -> Optional[str]:
    """``None`` if ``path`` is a checkpoint that loads (weights only), else the reason.

    The tensors are memory-mapped, not read, so this costs little even for large files.
    """
    from ..checkpoint.safe_load import load_checkpoint_file
    try:
        ckpt = load_checkpoint_file(path, mmap=True)
    except Exception as err:  # noqa: BLE001  (any failure means: do not resume from it)
        return f'{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""}'
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt or 'meta' not in ckpt:
        return 'not a training checkpoint (no "state_dict" and "meta")'
    return None


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from, or ``None`` to start afresh.

    Tries the file ``last_checkpoint`` names, then ``iter_N.pth`` / ``epoch_N.pth`` from the
    highest ``N`` down, and returns the first that loads; every newer one skipped is logged
    with the reason (truncated, missing, refused by the allow-list, ...).

    Args:
        work_dir: the run's work dir.
    """
    if not osp.isdir(work_dir):
        return None
    skipped, found = [], None
    for path in _candidates(work_dir):
        reason = why_unloadable(path)
        if reason is None:
            found = path
            break
        skipped.append((path, reason))
    for bad, why in skipped:
        print_log(f'resume: skipped {bad} ({why})', logger='current', level=logging.WARNING)
    if skipped and found is None:
        raise FileNotFoundError(f'--resume: none of the {len(skipped)} checkpoint(s) in '
                                f'{work_dir} loads (see the warnings above); pass one with '
                                f'--resume PATH or start without --resume')
    if skipped:
        print_log(f'resume: continuing from {found}, the newest checkpoint that loads',
                  logger='current', level=logging.WARNING)
    return found
