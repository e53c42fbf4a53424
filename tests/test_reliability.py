"""Issues #8 and #18: bad data, NaN losses and bad configs (DDP: test_ddp.py; checkpoint
safety: test_safe_load.py; kills and resume: test_checkpoint_atomic.py; config and option
checks: test_config_checks.py)."""
import io
import json
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
    assert f(dict(gt_texts=[])) is None  # no instance
    assert f(dict(gt_texts=['abcdefgh'])) is None  # too long: skipped
    assert f(dict(gt_texts=['héllo']))['gt_texts'] == ['héllo']  # kept, é -> <UKN>
    assert f(dict(gt_texts=['ok']))['gt_texts'] == ['ok']
    assert LoadTextImage.skipped() == {'label_empty': 1, 'label_no_instance': 1,
                                       'label_too_long': 1, 'label_unknown_chars': 1}
    cut = FilterTextLabel(DICT, max_len=5, long_label='truncate')
    assert cut(dict(gt_texts=['abcdefgh']))['gt_texts'] == ['abcde']
    strict_dict = FilterTextLabel(dict(DICT, with_unknown=False))
    assert strict_dict(dict(gt_texts=['héllo'])) is None  # no <UKN> to map to: skipped
    with pytest.raises(TextLabelError, match="x.png.*label_empty"):
        FilterTextLabel(DICT, fail_fast=True)(dict(gt_texts=[''], img_path='x.png'))


def _entry(**fields):
    return dict(img_path='crop.png', **fields)


def test_malformed_annotation_entries_are_skipped_by_reason():
    """Entries that crash MMOCR's LoadOCRAnnotations, checked before it runs."""
    init_default_scope('mmocr')
    f = FilterTextLabel(DICT, max_len=5)
    bad = [_entry(instances=[dict()]), _entry(instances=[dict(text=12345)]), _entry(),
           _entry(instances=[]), _entry(instances=[dict(text='a'), dict(text='b')]),
           _entry(instances=[dict(text='  \t')]), _entry(instances='abc')]
    assert all(f(dict(e)) is None for e in bad)
    assert LoadTextImage.skipped() == {'label_not_text': 2, 'label_no_instance': 3,
                                       'label_many_instances': 1, 'label_empty': 1}
    ok = f(_entry(instances=[dict(text='fine')]))
    assert ok['instances'] == [dict(text='fine')]
    cut = FilterTextLabel(DICT, max_len=3, long_label='truncate')
    assert cut(_entry(instances=[dict(text='abcdef')]))['instances'][0]['text'] == 'abc'
    with pytest.raises(TextLabelError, match=r"crop\.png.*label_not_text.*int 12345"):
        FilterTextLabel(DICT, fail_fast=True)(_entry(instances=[dict(text=12345)]))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width x height`` black pixels (a few KB; PIL takes seconds)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + \
            struct.pack('>I', zlib.crc32(kind + data))

    row, z = b'\0' * (1 + (width + 7) // 8), zlib.compressobj(9)
    idat = b''.join(z.compress(row) for _ in range(height)) + z.flush()
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0,
                                                              0, 0))
            + chunk(b'IDAT', idat) + chunk(b'IEND', b''))


def test_decompression_bomb_is_skipped_without_decoding(tmp_path):
    bomb = tmp_path / 'bomb.png'
    bomb.write_bytes(_png_bomb(20000, 20000))  # 400 M pixels (1.2 GB decoded) in 60 KB
    assert bomb.stat().st_size < 100_000
    assert LoadTextImage()(dict(img_path=str(bomb))) is None
    small = tmp_path / 'small.jpg'
    small.write_bytes(cv2.imencode('.jpg', np.zeros((40, 100, 3), np.uint8))[1].tobytes())
    assert LoadTextImage(max_pixels=3999)(dict(img_path=str(small))) is None
    assert LoadTextImage(max_pixels=3999)(dict(img_path=str(small))) is None
    assert LoadTextImage(max_pixels=None)(dict(img_path=str(small)))['img'].shape == (40, 100, 3)
    assert LoadTextImage.skipped() == {'too_large': 3}
    from mnsp_mm.datasets.transforms import TextImageLoadError
    with pytest.raises(TextImageLoadError, match=r'too_large: .*400000000 pixels'):
        LoadTextImage(fail_fast=True)(dict(img_path=str(bomb)))


def test_gif_files_in_a_folder_are_listed_and_load(tmp_path):
    from mnsp_mm.datasets import UnlabeledTextDataset
    Image.fromarray(np.full((32, 100, 3), 200, np.uint8)).save(tmp_path / 'a.gif')
    (tmp_path / 'b.png').write_bytes(_png(np.zeros((32, 100, 3), np.uint8)))
    ds = UnlabeledTextDataset(sources=[dict(type='folder', path=str(tmp_path))],
                              pipeline=[dict(type='LoadTextImage')])
    assert sorted(Path(ds.get_data_info(i)['img_path']).name for i in range(len(ds))) == \
        ['a.gif', 'b.png']
    gif = next(i for i in range(len(ds)) if ds.get_data_info(i)['img_path'].endswith('gif'))
    assert ds[gif]['img'].shape == (32, 100, 3)


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
    synth.render_dataset(tmp_path, 12, 0, name='train')
    ann = json.loads((tmp_path / 'textrecog_train.json').read_text())
    items = ann['data_list']
    items[0]['img_path'] = 'no/such/file.png'
    items[1]['instances'][0]['text'] = ''
    items[2]['instances'][0]['text'] = 'x' * 80
    del items[3]['instances'][0]['text']  # the malformed entries of issue #18
    items[4]['instances'][0]['text'] = 12345
    del items[5]['instances']
    items[6]['instances'].append(dict(text='two'))
    items[7]['instances'][0]['text'] = '   '
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
    assert {'label_not_text', 'label_no_instance', 'label_many_instances'} & set(totals)


# ------------------------------------------------------- 2. crash and resume
# Killing runs (during checkpoint saves too) and resuming: tests/test_checkpoint_atomic.py.


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
        'EMAHook', 'NonFiniteLossHook', 'DataHealthHook', 'RNGStateHook', 'FairShareHook']


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
                       match=r"train_dataloader\.dataset\.sources\.0='.*nowhere'"):
        build_runner(cfg).train()
    ft = load_config(TINY_FT, work_dir=str(tmp_path / 'w'),
                     cfg_options={'train_dataloader.dataset.data_root': str(tmp_path)})
    with pytest.raises(FileNotFoundError, match=r"train_dataloader\.dataset\.ann_file="
                                                r"'textrecog_train\.json' \(resolved to"):
        build_runner(ft).train()
    ft = load_config(TINY_FT, work_dir=str(tmp_path / 'w'))
    ft.test_dataloader.dataset.datasets[0].data_root = str(tmp_path / 'gone')
    with pytest.raises(FileNotFoundError, match=r"test_dataloader\.dataset\.datasets\.0"
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


# ------------------------------------------------------ 8. a busy machine
def test_torch_threads_follow_the_cores_left_free(monkeypatch):
    from mnsp_mm.engine import FairShareHook
    from mnsp_mm.engine import fair_share
    # (machine busy CPU s, own CPU s, wall s, cores): others use 1 of 2 cores, then none
    samples = iter([(0., 0., 0., 2), (3., 1., 2., 2), (5., 2., 3., 2), (9., 7., 5., 2)])
    monkeypatch.setattr(fair_share, 'sample', lambda: next(samples))
    assert fair_share.free_cores((0., 0., 0., 2), (3., 1., 2., 2)) == pytest.approx(1.0)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        hook = FairShareHook(interval=2)
        hook.before_run(None)
        hook.after_train_iter(None, 0)
        assert torch.get_num_threads() == 1  # the other process holds a core
        hook.after_test_iter(None, 1)  # 1 s later: too soon to measure again
        assert torch.get_num_threads() == 1
        hook.after_val_iter(None, 2)
        assert torch.get_num_threads() == 2  # the machine is ours again
        torch.set_num_threads(1)
        hook.after_run(None)
        assert torch.get_num_threads() == 2  # what the run found
        samples = iter([(0., 0., 0., 2), (3., 1., 2., 2)])  # a core taken again
        fixed = FairShareHook(interval=2, adapt=False)
        fixed.before_run(None)
        fixed.after_train_iter(None, 3)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    monkeypatch.undo()
    real = fair_share.sample()  # from /proc/stat (None where there is none)
    assert real is None or (len(real) == 4 and real[3] >= 1)
