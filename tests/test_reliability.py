"""Issue #8: bad data, crash + resume, NaN losses and bad configs (DDP: test_ddp.py;
checkpoint safety: test_safe_load.py)."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import Runner
from PIL import Image

from mnsp_mm.apis import build_runner, load_config
from mnsp_mm.apis import prepare as runner_mod
from mnsp_mm import synth
from mnsp_mm.datasets import FilterTextLabel, LoadTextImage, TextLabelError
from mnsp_mm.engine import (SKIP_KEY, DataHealthHook, NonFiniteLossError, NonFiniteLossHook,
                            counting_collate)

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/pretrain/mae_text-vit-tiny_synth-cpu.py'
TINY_LMIM = 'configs/pretrain/lmim_text-vit-tiny_synth-cpu.py'
TINY_FT = 'configs/finetune/maerec_text-vit-tiny_synth-cpu.py'
DICT = dict(type='Dictionary', dict_file=str(ROOT / 'configs/finetune/_base_/dicts/'
                                              'english_digits_symbols_space.txt'),
            with_padding=True, with_unknown=True, same_start_end=True, with_start=True,
            with_end=True)


@pytest.fixture(autouse=True)
def _counters():
    LoadTextImage.reset_skipped()
    yield
    LoadTextImage.reset_skipped()


def _png(arr) -> bytes:
    return cv2.imencode('.png', arr)[1].tobytes()


def _pil(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def bad_and_odd_images(root: Path) -> dict:
    """Files for every bad-input kind of the issue: ``{name: (path, loads?)}``."""
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (32, 100, 3), np.uint8)
    jpeg = cv2.imencode('.jpg', rgb)[1].tobytes()
    files = {
        'good.png': (_png(rgb), True),
        'gray.png': (_png(rgb[..., 0]), True),
        'rgba.png': (_png(np.dstack([rgb, rgb[..., :1]])), True),
        'deep16.png': (_png((rgb[..., 0].astype(np.uint16) * 257)), True),
        'cmyk.jpg': (_pil(Image.fromarray(rgb).convert('CMYK'), 'JPEG'), True),
        'wide.png': (_png(rng.randint(0, 256, (1, 1000, 3), np.uint8)), True),
        'tall.png': (_png(rng.randint(0, 256, (1000, 1, 3), np.uint8)), True),
        'truncated.jpg': (jpeg[:len(jpeg) // 2], False),
        'zero.png': (b'', False),
        'text.png': (b'this is not an image at all', False),
    }
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (data, ok) in files.items():
        (root / name).write_bytes(data)
        out[name] = (root / name, ok)
    out['absent.png'] = (root / 'absent.png', False)  # listed, never written
    return out


# ---------------------------------------------------------------- 1. bad data
def test_each_bad_image_kind_is_skipped_and_odd_ones_load(tmp_path):
    reasons = {}
    for name, (path, ok) in bad_and_odd_images(tmp_path).items():
        out = LoadTextImage()(dict(img_path=str(path)))
        assert (out is not None) == ok, name
        if ok:
            assert out['img'].ndim == 3 and out['img'].shape[2] == 3
    reasons = LoadTextImage.skipped()
    assert reasons == {'truncated': 1, 'empty': 1, 'undecodable': 1, 'missing': 1}


def test_label_policies_and_fail_fast():
    init_default_scope('mmocr')
    f = FilterTextLabel(DICT, max_len=5)
    assert f(dict(gt_texts=[''])) is None
    assert f(dict(gt_texts=[])) is None
    assert f(dict(gt_texts=['abcdefgh'])) is None  # too long: skipped
    assert f(dict(gt_texts=['héllo']))['gt_texts'] == ['héllo']  # kept, é -> <UKN>
    assert f(dict(gt_texts=['ok']))['gt_texts'] == ['ok']
    assert LoadTextImage.skipped() == {'label_empty': 2, 'label_too_long': 1,
                                       'label_unknown_chars': 1}
    cut = FilterTextLabel(DICT, max_len=5, long_label='truncate')
    assert cut(dict(gt_texts=['abcdefgh']))['gt_texts'] == ['abcde']
    strict_dict = FilterTextLabel(dict(DICT, with_unknown=False))
    assert strict_dict(dict(gt_texts=['héllo'])) is None  # no <UKN> to map to: skipped
    with pytest.raises(TextLabelError, match="x.png.*label_empty"):
        FilterTextLabel(DICT, fail_fast=True)(dict(gt_texts=[''], img_path='x.png'))


def test_counts_ride_in_the_batch_and_the_hook_removes_them():
    LoadTextImage.reset_skipped()
    from mnsp_mm.datasets import count_skip
    count_skip('missing')
    batch = counting_collate([dict(inputs=torch.zeros(1))], dict(type='default_collate'))
    assert batch[SKIP_KEY] == {'missing': 1}
    assert SKIP_KEY not in counting_collate([dict(inputs=torch.zeros(1))])  # drained once
    hook = DataHealthHook(interval=1)
    hook.before_train_iter(None, 0, batch)
    assert SKIP_KEY not in batch and hook.totals() == {'missing': 1}


def _pretrain_cfg(work_dir, sources, iters, **loader):
    cfg = load_config(TINY_MAE, work_dir=str(work_dir))
    cfg.train_dataloader.update(batch_size=4, **loader)
    cfg.train_dataloader.dataset.sources = sources
    cfg.train_cfg.max_iters = iters
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1000
    return cfg


def test_pretraining_survives_bad_files_counts_from_workers_are_logged(tmp_path):
    files = bad_and_odd_images(tmp_path / 'imgs')
    lst = tmp_path / 'list.txt'
    lst.write_text('\n'.join(str(p) for p, _ in files.values()))
    cfg = _pretrain_cfg(tmp_path / 'work', [str(lst)], 3, num_workers=2,
                        persistent_workers=False)
    runner = build_runner(cfg)
    runner.train()  # 12 draws from 11 files, 4 broken: the run goes on
    hook = next(h for h in runner.hooks if isinstance(h, DataHealthHook))
    totals = hook.report(runner)
    assert {'missing', 'empty', 'undecodable', 'truncated'} <= set(totals)
    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    assert 'data: ' in log and 'since the start over all workers and ranks' in log
    assert 'data_skipped: ' in log
    assert LoadTextImage.skipped() == {}  # counted in the workers, not in this process


def test_finetuning_survives_missing_images_and_bad_labels(tmp_path):
    synth.render_dataset(tmp_path, 8, 0, name='train')
    ann = json.loads((tmp_path / 'textrecog_train.json').read_text())
    items = ann['data_list']
    items[0]['img_path'] = 'no/such/file.png'
    items[1]['instances'][0]['text'] = ''
    items[2]['instances'][0]['text'] = 'x' * 80
    (tmp_path / 'textrecog_train.json').write_text(json.dumps(ann))
    cfg = load_config(TINY_FT, work_dir=str(tmp_path / 'work'), cfg_options={
        'train_dataloader.dataset.data_root': str(tmp_path),
        'train_dataloader.batch_size': 4, 'train_cfg.max_iters': 4, 'train_cfg.val_interval': 100,
        'default_hooks.logger.interval': 2, 'default_hooks.checkpoint.interval': 100,
        'param_scheduler': []})
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    runner = build_runner(cfg)
    runner.train()
    pipeline = runner.train_dataloader.dataset.pipeline.transforms
    assert next(t for t in pipeline if isinstance(t, FilterTextLabel)).max_len == 24
    totals = next(h for h in runner.hooks if isinstance(h, DataHealthHook)).report(runner)
    assert {'missing', 'label_empty', 'label_too_long'} <= set(totals)


# ------------------------------------------------------- 2. crash and resume
def _losses(work_dir: Path) -> dict:
    """``{run dir: {iter: loss}}`` from the runner's scalars.json files."""
    runs = {}
    for f in sorted(work_dir.glob('*/vis_data/scalars.json')):
        rows = [json.loads(line) for line in f.read_text().splitlines()]
        runs[f.parts[-3]] = {r['step']: r['loss'] for r in rows if 'loss' in r}
    return runs


def test_sigkill_then_resume_repeats_the_uninterrupted_losses(tmp_path, pool):
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(
        f"_base_ = ['{ROOT / TINY_MAE}']\n"
        f"train_dataloader = dict(batch_size=4, dataset=dict(sources=['{pool}/lmdb/u']))\n"
        "default_hooks = dict(logger=dict(interval=1), "
        "checkpoint=dict(interval=3, max_keep_ckpts=2))\n"
        "log_processor = dict(window_size=1)\n"
        "train_cfg = dict(max_iters=10)\n")
    train = [sys.executable, 'tools/train.py', str(cfg)]
    ref, crash = tmp_path / 'ref', tmp_path / 'crash'
    reference = subprocess.Popen(train + ['--work-dir', str(ref)], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # the victim runs "forever"; it is killed once its first checkpoint is on disk
    victim = subprocess.Popen(train + ['--work-dir', str(crash), '--cfg-options',
                                       'train_cfg.max_iters=100000'], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (crash / 'last_checkpoint').is_file():
        assert victim.poll() is None and time.time() < deadline, 'victim never checkpointed'
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert reference.wait() == 0, reference.stderr.read().decode()[-3000:]
    res = subprocess.run(train + ['--work-dir', str(crash), '--resume'], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    want = next(iter(_losses(ref).values()))
    resumed = [run for run in _losses(crash).values() if min(run) > 1]
    assert len(resumed) == 1 and len(want) == 10
    got = resumed[0]
    assert min(got) in (4, 7) and max(got) == 10  # resumed from iter_3 (or iter_6)
    for it, loss in got.items():
        assert loss == pytest.approx(want[it], rel=1e-5, abs=1e-6), (it, got, want)


# ------------------------------------------------------ 4. numerical faults
class _NaNAt(BaseModel):
    """y = w . x; the ``loss_bad`` term becomes NaN at the given 1-based iteration."""

    def __init__(self, nan_at: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))
        self.nan_at, self.calls = nan_at, 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.calls += 1
        fit = ((torch.stack(inputs) * self.w).sum() - 1)**2
        bad = fit * (float('nan') if self.calls == self.nan_at else 0.)
        return dict(loss_fit=fit, loss_bad=bad)


def _toy_runner(tmp_path, model, hooks, iters=5):
    return Runner(
        model=model, work_dir=str(tmp_path), default_scope='mmpretrain',
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 8, batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=iters), custom_hooks=hooks,
        default_hooks=dict(checkpoint=None))


def test_nan_loss_stops_before_the_update_naming_iteration_and_term(tmp_path):
    model = _NaNAt(nan_at=3)
    runner = _toy_runner(tmp_path, model, [dict(type='NonFiniteLossHook')])
    seen = []
    runner.register_hook(_Recorder(seen), 'LOWEST')
    with pytest.raises(NonFiniteLossError, match=r'iteration 3: loss_bad=nan') as err:
        runner.train()
    assert err.value.terms == {'loss_bad': pytest.approx(float('nan'), nan_ok=True)}
    assert torch.isfinite(model.w).all() and torch.equal(model.w.detach(), seen[-1])


def test_without_the_hook_nan_poisons_the_weights(tmp_path):
    model = _NaNAt(nan_at=3)
    _toy_runner(tmp_path, model, []).train()
    assert torch.isnan(model.w).all()


class _Recorder(Hook):
    """Records the weights after every iteration."""

    def __init__(self, seen):
        self.seen = seen

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.seen.append(runner.model.w.detach().clone())


def test_under_amp_the_scaler_skips_until_max_amp_skips():
    from mmengine.optim import AmpOptimWrapper

    class FakeRunner:
        iter = 6
        optim_wrapper = object.__new__(AmpOptimWrapper)  # its __init__ needs a GPU

    hook = NonFiniteLossHook(amp_skip=True, max_amp_skips=2)
    bad = dict(loss=torch.tensor(float('inf')), loss_mim=torch.tensor(float('inf')))
    assert hook.check(FakeRunner, bad) == ['loss_mim']
    assert hook.check(FakeRunner, dict(loss=torch.tensor(1.))) == []  # a good step resets
    hook.check(FakeRunner, bad)
    hook.check(FakeRunner, bad)
    with pytest.raises(NonFiniteLossError, match='iteration 7: loss_mim=inf'):
        hook.check(FakeRunner, bad)
    with pytest.raises(NonFiniteLossError):
        NonFiniteLossHook(amp_skip=False).check(FakeRunner, bad)


def test_every_run_gets_the_reliability_hooks():
    for path in (TINY_MAE, TINY_FT, 'configs/pretrain/mnsp_text-vit-s_union14m-u_10e.py',
                 'configs/finetune/maerec-s_union14m-l.py'):
        types = [h['type'] for h in load_config(path).custom_hooks]
        assert {'NonFiniteLossHook', 'DataHealthHook', 'RNGStateHook'} <= set(types), path
    cfg = load_config(TINY_MAE, cfg_options={'custom_hooks': [dict(type='EMAHook')]})
    runner_mod.add_default_hooks(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == [
        'EMAHook', 'NonFiniteLossHook', 'DataHealthHook', 'RNGStateHook']


# ------------------------------------------------------------ 6. bad configs
@pytest.fixture
def no_runner(monkeypatch):
    """Fail the test if the run gets as far as building a dataloader."""
    def boom(*args, **kwargs):
        raise AssertionError('a dataloader was built before the config error was found')
    monkeypatch.setattr(Runner, 'build_dataloader', boom)


def test_missing_data_paths_name_the_key_before_any_build(tmp_path, no_runner):
    cfg = load_config(TINY_MAE, work_dir=str(tmp_path / 'w'), cfg_options={
        'train_dataloader.dataset.sources': [str(tmp_path / 'nowhere')]})
    with pytest.raises(FileNotFoundError,
                       match=r"train_dataloader\.dataset\.sources\[0\]='.*nowhere'"):
        build_runner(cfg).train()
    ft = load_config(TINY_FT, work_dir=str(tmp_path / 'w'),
                     cfg_options={'train_dataloader.dataset.data_root': str(tmp_path)})
    with pytest.raises(FileNotFoundError, match=r"train_dataloader\.dataset\.ann_file="
                                                r"'textrecog_train\.json' \(resolved to"):
        build_runner(ft).train()
    ft = load_config(TINY_FT, work_dir=str(tmp_path / 'w'))
    ft.test_dataloader.dataset.datasets[0].data_root = str(tmp_path / 'gone')
    with pytest.raises(FileNotFoundError, match=r"test_dataloader\.dataset\.datasets\[0\]"
                                                r"\.data_root='.*gone'"):
        build_runner(ft).test()


def test_dictionary_that_cannot_cover_the_labels(tmp_path, no_runner):
    ann = dict(metainfo={}, data_list=[dict(img_path=f'{i}.png', instances=[dict(text=t)])
                                       for i, t in enumerate(['ok', 'fine', 'ünïcödé', 'ok'])])
    (tmp_path / 'train.json').write_text(json.dumps(ann))
    opts = {'train_dataloader.dataset.data_root': str(tmp_path),
            'train_dataloader.dataset.ann_file': 'train.json', 'val_dataloader': None,
            'val_cfg': None, 'val_evaluator': None}
    with pytest.raises(ValueError, match=r"model\.decoder\.dictionary\.dict_file=.*"
                                         r"english_digits_symbols_space\.txt.*1 of 4.*'éïöü'"):
        build_runner(load_config(TINY_FT, cfg_options=opts, work_dir=str(tmp_path))).train()
    strict = dict(opts, **{'model.decoder.dictionary.with_unknown': False,
                           'data_check': dict(max_unknown_label_ratio=1.0)})
    with pytest.raises(ValueError, match='with_unknown=False'):
        build_runner(load_config(TINY_FT, cfg_options=strict, work_dir=str(tmp_path))).train()


def test_teacher_config_that_does_not_match_its_checkpoint(mae_ckpt):
    cfg = load_config(TINY_LMIM)
    cfg.model.target_generator.checkpoint = str(mae_ckpt)
    cfg.model.target_generator.backbone.arch = dict(embed_dims=48, num_layers=4, num_heads=3,
                                                    feedforward_channels=192)
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        with pytest.raises(ValueError, match=r"model\.target_generator\.backbone\.arch=.*"
                                             r"'embed_dims': 48.*4-layer, 96-wide"):
            MODELS.build(cfg.model)


def test_decoder_input_width_must_be_the_student_width(mae_ckpt):
    cfg = load_config(TINY_LMIM)
    cfg.model.target_generator.checkpoint = str(mae_ckpt)
    cfg.model.neck.in_dims = 64
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        with pytest.raises(ValueError, match=r'model\.neck\.in_dims=64, but the student .* 96'):
            MODELS.build(cfg.model)


def test_patch_size_and_scales_fail_at_build_naming_the_values():
    from mnsp_mm.models.backbones import TextViT
    with pytest.raises(ValueError, match=r'image size 30x128 is not divisible by the patch '
                                         r'size 4x4'):
        TextViT(arch='small', img_size=(30, 128))
