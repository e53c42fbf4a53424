"""Issues #8 and #18: bad data, NaN losses and bad configs (DDP: test_ddp.py; checkpoint
safety: test_safe_load.py; kills and resume: test_checkpoint_atomic.py; config and option
checks: test_config_checks.py)."""
import io
import json
import struct
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

from dirty_dataset import png_bomb as _png_bomb  # tests/ is on sys.path (pytest rootdir)
from mnsp_mm.apis import build_runner, load_config
from mnsp_mm.apis import prepare as runner_mod
from mnsp_mm import synth
from mnsp_mm.datasets import FilterTextLabel, LoadTextImage, TextLabelError
from mnsp_mm.engine import (SKIP_KEY, DataHealthHook, NonFiniteLossError, NonFiniteLossHook,
                            counting_collate)

ROOT = Path(__file__).resolve().parents[1]
TINY_MAE = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'
TINY_LMIM = 'configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py'
TINY_FT = 'configs/maerec/maerec_text-vit-tiny_1xb32-coslr-200iter_synth.py'
DICT = dict(type='Dictionary', dict_file=str(ROOT / 'configs/_base_/textrecog/dicts/'
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
    for path in (TINY_MAE, TINY_FT,
                 'configs/mnsp/mnsp_text-vit-s_8xb64-amp-coslr-10e_union14m-u.py',
                 'configs/maerec/maerec_text-vit-s_8xb128-coslr-10e_union14m-l.py'):
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
    for i in range(4):  # the start-up check also samples the image paths
        (tmp_path / f'{i}.png').write_bytes(_png(np.zeros((8, 8, 3), np.uint8)))
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


# ------------------------------------------------------------ issue #25 (third round)
def _rgbe_header(width: int, height: int) -> bytes:
    """The header of a Radiance RGBE image: all cv2 needs to allocate ``width x height``."""
    return (b'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n' +
            f'-Y {height} +X {width}\n'.encode() + b'\x02\x02\x00\x00')


def test_every_format_cv2_decodes_has_its_size_read_from_the_header(tmp_path):
    """Item 3: the bomb check knows the size of each format cv2 reads, PIL's or not."""
    from mnsp_mm.datasets.image_header import CV2_ONLY_FORMATS, header_size
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (40, 100, 3), np.uint8)
    for ext in ('.bmp', '.jpg', '.jp2', '.png', '.webp', '.tiff', '.hdr', '.ras', '.pbm',
                '.pgm', '.ppm', '.pam', '.pfm'):
        src = img.astype(np.float32) / 255 if ext in ('.hdr', '.pfm') else img
        src = src[..., 0] if ext in ('.pbm', '.pgm') else src
        buf = cv2.imencode(ext, src)[1].tobytes()
        assert cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR).shape == \
            (40, 100, 3), ext
        assert header_size(buf) == (100, 40), ext
    exr = (b'\x76\x2f\x31\x01\x02\x00\x00\x00' + b'channels\0chlist\0' +
           struct.pack('<i', 1) + b'\0' + b'dataWindow\0box2i\0' + struct.pack('<i', 16) +
           struct.pack('<4i', 0, 0, 8191, 4095) + b'\0')  # OpenEXR (OPENCV_IO_ENABLE_OPENEXR)
    assert header_size(exr) == (8192, 4096)
    assert header_size(b'#?RGBE\nX=1\n\n+X 30 -Y 20\n') == (30, 20)
    assert header_size(b'P7\nWIDTH 7\nHEIGHT 9\nDEPTH 3\nMAXVAL 255\nENDHDR\n') == (7, 9)
    assert len(CV2_ONLY_FORMATS) == 4 and header_size(b'not an image') is None


def _skips_of_batch(batch):
    from mnsp_mm.datasets import drain_skip_counts
    return len(batch), drain_skip_counts()


@pytest.mark.parametrize('num_workers', [0, 2])
def test_a_radiance_bomb_named_png_is_too_large_before_decoding(tmp_path, monkeypatch,
                                                                num_workers):
    """Item 3: an 8192x8192 RGBE header renamed .png (PIL does not know the format, cv2 would
    allocate 805 MB for it), in the main process and in dataloader workers."""
    from torch.utils.data import DataLoader

    from mnsp_mm.datasets import UnlabeledTextDataset
    decode = cv2.imdecode

    def imdecode(buf, flags):
        assert b'8192' not in bytes(buf[:80]), 'the bomb reached cv2.imdecode'
        return decode(buf, flags)

    monkeypatch.setattr(cv2, 'imdecode', imdecode)  # forked workers inherit the patch
    (tmp_path / 'bomb.png').write_bytes(_rgbe_header(8192, 8192))
    small = cv2.imencode('.hdr', np.ones((40, 100, 3), np.float32))[1].tobytes()
    (tmp_path / 'small.png').write_bytes(small)  # a real RGBE crop loads
    assert LoadTextImage()(dict(img_path=str(tmp_path / 'small.png')))['img'].shape == \
        (40, 100, 3)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ds = UnlabeledTextDataset(sources=[dict(type='folder', path=str(tmp_path))],
                                  pipeline=[dict(type='LoadTextImage')])
    bomb = next(i for i in range(len(ds)) if 'bomb' in ds.get_data_info(i)['img_path'])
    loader = DataLoader(torch.utils.data.Subset(ds, [bomb] * 4), batch_size=2,
                        num_workers=num_workers, collate_fn=_skips_of_batch)
    totals = {}
    for size, skips in loader:  # each bomb is replaced by another crop (refetch)
        assert size == 2
        for k, v in skips.items():
            totals[k] = totals.get(k, 0) + v
    assert totals.get('too_large', 0) >= 4 and set(totals) == {'too_large'}
    from mnsp_mm.datasets.transforms import TextImageLoadError
    with pytest.raises(TextImageLoadError, match=r'too_large: header declares 8192x8192'):
        LoadTextImage(fail_fast=True)(dict(img_path=str(tmp_path / 'bomb.png')))


def _finetune_set(root: Path, n: int = 12) -> dict:
    """A small labeled synthetic set; returns its annotation (edit it, then ``_write``)."""
    synth.render_dataset(root, n, 0, name='train')
    return json.loads((root / 'textrecog_train.json').read_text())


def _write(root: Path, ann: dict) -> None:
    (root / 'textrecog_train.json').write_text(json.dumps(ann))


def _tiny_ft(root: Path, iters: int = 2, config: str = TINY_FT, **options):
    cfg = load_config(config, work_dir=str(root / 'work'), cfg_options={
        'train_dataloader.dataset.data_root': str(root), 'train_dataloader.batch_size': 4,
        'train_dataloader.dataset.pipeline': load_config(TINY_FT).train_pipeline[:-4] +
        load_config(TINY_FT).train_pipeline[-1:],  # no augmentation: faster
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': 100,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': 100,
        'param_scheduler': [], **options})
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    return cfg


def _totals(runner) -> dict:
    return next(h for h in runner.hooks if isinstance(h, DataHealthHook)).report(runner)


@pytest.mark.parametrize('num_workers', [0, 1])
def test_entries_without_a_usable_img_path_are_skipped_and_counted(tmp_path, num_workers):
    """Item 4: a bare string, no ``img_path``, a number: counted, not a raw AssertionError /
    TypeError while the dataset is built; an error naming file and index in evaluation."""
    ann = _finetune_set(tmp_path)
    items = ann['data_list']
    items[0] = 'just/a/string.png'
    del items[1]['img_path']
    items[2]['img_path'] = 12345
    _write(tmp_path, ann)
    runner = build_runner(_tiny_ft(tmp_path, **{'train_dataloader.num_workers': num_workers}))
    runner.train()
    assert len(runner.train_dataloader.dataset) == 9
    assert _totals(runner)['label_no_img_path'] == 3
    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    assert 'entry 0: label_no_img_path (the entry is a str' in log  # the start-up check
    assert 'entry 2 skipped (label_no_img_path: "img_path" is int 12345' in log
    test = load_config(TINY_FT, work_dir=str(tmp_path / 'work'), cfg_options={
        'test_dataloader.dataset.data_root': str(tmp_path),
        'test_dataloader.dataset.datasets.0.ann_file': 'textrecog_train.json'})
    with pytest.raises(ValueError, match=r'textrecog_train\.json has 3 entries that cannot be '
                                         r'evaluated .*entry 0: label_no_img_path'):
        build_runner(test).test()


def test_no_image_of_the_annotation_file_exists_stops_at_start(tmp_path, no_runner):
    """Item 5: a wrong data root is a start-up error naming the file and the folder, not
    MMOCR's "Cannot find valid image after 1000!" after 1000 warnings."""
    ann = _finetune_set(tmp_path / 'data')
    (tmp_path / 'elsewhere').mkdir()
    (tmp_path / 'elsewhere' / 'textrecog_train.json').write_text(json.dumps(ann))
    with pytest.raises(FileNotFoundError,
                       match=r"train_dataloader\.dataset\.ann_file: .*elsewhere/textrecog_train"
                             r"\.json: none of the 12 images checked exist under the image "
                             r"folder '.*elsewhere' \(data_root="):
        build_runner(_tiny_ft(tmp_path / 'elsewhere')).train()
    for item in ann['data_list'][1:]:  # only one image left: training goes on, skipping
        item['img_path'] = 'gone/' + item['img_path']
    _write(tmp_path / 'data', ann)
    from mnsp_mm.apis.config_checks import check_annotation_files
    check_annotation_files(_tiny_ft(tmp_path / 'data'), ['train'])
    test = load_config(TINY_FT, cfg_options={
        'test_dataloader.dataset.data_root': str(tmp_path / 'data'),
        'test_dataloader.dataset.datasets.0.ann_file': 'textrecog_train.json'})
    with pytest.raises(FileNotFoundError, match=r'11 of the 12 images checked are missing'):
        check_annotation_files(test, ['test'])  # evaluation would crash on the first


def test_ctc_head_limits_the_label_length_by_its_columns(tmp_path):
    """Item 6: the demo's CTC config (16 columns, no max_seq_len) skips a 30-character label
    and one whose repeats need more columns, counted as ``label_too_long``."""
    from mnsp_mm.apis.prepare import label_limit
    ann = _finetune_set(tmp_path, 8)
    for item in ann['data_list']:  # the demo's dictionary: lower case and digits
        item['instances'][0]['text'] = 'word'
    ann['data_list'][0]['instances'][0]['text'] = 'abcdefghij' * 3
    ann['data_list'][1]['instances'][0]['text'] = 'aabbccddeeff'  # 12 chars, 17 CTC steps
    _write(tmp_path, ann)
    demo = load_config('configs/demo/finetune.py')
    assert label_limit(demo.model.decoder) == (16, True)
    assert label_limit(load_config(TINY_FT).model.decoder) == (24, False)
    cfg = _tiny_ft(tmp_path, config='configs/demo/finetune.py', **{
        'train_dataloader.dataset.pipeline': demo.train_pipeline,
        'optim_wrapper.optimizer.lr': 1e-3})
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    runner = build_runner(cfg)
    runner.train()
    label_filter = next(t for t in runner.train_dataloader.dataset.pipeline.transforms
                        if isinstance(t, FilterTextLabel))
    assert (label_filter.max_len, label_filter.ctc) == (16, True)
    assert _totals(runner)['label_too_long'] >= 2
    cut = FilterTextLabel(DICT, max_len=5, long_label='truncate', ctc=True)
    assert cut(dict(gt_texts=['aabbcc']))['gt_texts'] == ['aab']
    assert FilterTextLabel(DICT, max_len=5, ctc=True)(dict(gt_texts=['abcde'])) is not None


def test_a_dirty_dataset_run_counts_every_kind(tmp_path):
    """Item 11: one short run over every bad kind at once (workers), each reason reported."""
    from dirty_dataset import EXPECTED, make_dirty_dataset, run
    make_dirty_dataset(tmp_path)
    totals = run(tmp_path, iters=6, workers=1)  # 48 draws: every entry at least once
    assert set(totals) == set(EXPECTED), totals
    assert totals['label_no_img_path'] == 3


def test_the_image_check_reads_only_the_entries_a_dataset_keeps(tmp_path):
    """An evaluation set with ``indices`` is checked on those entries: a missing image
    outside them is no error (MMOCR never reads it)."""
    from mnsp_mm.apis.config_checks import _indexed
    entries = [dict(img_path=str(i)) for i in range(5)]
    assert _indexed(entries, None) == entries and _indexed(entries, 2) == entries[:2]
    assert _indexed(entries, [3, 4, 9]) == entries[3:5]
