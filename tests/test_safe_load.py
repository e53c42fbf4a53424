import argparse
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mnsp_mm  # noqa: F401  (installs the allow-list)
from mnsp_mm.checkpoint.safe_load import load_checkpoint_file


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_mmengine_style_checkpoint_loads_weights_only(tmp_path):
    buf = HistoryBuffer()
    buf.update(np.float64(1.5))
    buf.update(2.0)
    ckpt = {'meta': {'epoch': 1, 'iter': 2, 'seed': np.int64(3), 'cfg': 'x = 1',
                     'message_hub': {'log_scalars': {'train/loss': buf},
                                     'runtime_info': {'lr': np.float32(0.1),
                                                      'arr': np.arange(3)}}},
            'state_dict': {'w': torch.ones(2)}, 'optimizer': {'state': {}, 'param_groups': []}}
    path = tmp_path / 'ckpt.pth'
    torch.save(ckpt, path)
    for loaded in (load_checkpoint_file(path), _load_checkpoint(str(path), map_location='cpu')):
        hub = loaded['meta']['message_hub']
        assert hub['log_scalars']['train/loss'].mean() == pytest.approx(1.75)
        assert loaded['meta']['seed'] == 3
        assert np.array_equal(hub['runtime_info']['arr'], np.arange(3))


def test_official_mae_format_loads(tmp_path):
    args = argparse.Namespace(model='mae_vit_small_patch4', input_size=(32, 128), mask_ratio=0.75,
                              norm_pix_loss=True, lr=None, blr=1.5e-4, output_dir='./out')
    ckpt = {'model': {'cls_token': torch.zeros(1, 1, 8)}, 'optimizer': {'state': {}},
            'epoch': 19, 'scaler': {'scale': 65536.0}, 'args': args}
    path = tmp_path / 'official.pth'
    torch.save(ckpt, path)
    loaded = load_checkpoint_file(path)
    assert loaded['args'].input_size == (32, 128) and loaded['epoch'] == 19


def test_checkpoint_with_a_callable_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Evil(marker)}, path)
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_checkpoint_file(path)
    with pytest.raises(Exception, match='[Ww]eights only load failed'):
        _load_checkpoint(str(path), map_location='cpu')  # mmengine's own path, torch default
    assert not marker.exists()


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(tmp_path / 'nope.pth')


def test_getattr_is_allowed_only_for_history_buffer_methods(tmp_path):
    class _Getattr:  # getattr on an allowed class, but not a HistoryBuffer statistics method
        def __reduce__(self):
            return (getattr, (argparse.Namespace, '__init__'))

    path = tmp_path / 'getattr.pth'
    torch.save({'x': _Getattr()}, path)
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_checkpoint_file(path)


def test_real_runner_checkpoint_resumes(tmp_path):
    """A checkpoint written by mmengine's Runner (message hub, optimizer, numpy RNG state)."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            loss = ((torch.stack(inputs) * self.w).sum() - 1)**2
            return dict(loss=loss) if mode == 'loss' else loss

    def runner(resume):
        return Runner(
            model=Toy(), work_dir=str(tmp_path), experiment_name=f'toy{int(resume)}',
            train_dataloader=dict(dataset=[dict(inputs=torch.ones(2))] * 8, batch_size=2,
                                  sampler=dict(type='DefaultSampler', shuffle=True),
                                  collate_fn=dict(type='pseudo_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            train_cfg=dict(by_epoch=False, max_iters=4 if resume else 2),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                               by_epoch=False)),
            resume=resume, load_from=str(tmp_path / 'iter_2.pth') if resume else None,
            randomness=dict(seed=0), default_scope='mmengine')

    runner(False).train()
    ckpt = load_checkpoint_file(tmp_path / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2 and 'message_hub' in ckpt
    r = runner(True)
    r.train()
    assert r.iter == 4


# ------------------------------------------- issue #8 item 3: every loading path refuses code
class _Exploit:
    """Unpickling it would create ``marker`` (a stand-in for arbitrary code execution)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def exploit(tmp_path, monkeypatch):
    """A checkpoint that runs code when unpickled, with torch's safe default switched off."""
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'meta': _Exploit(marker)}, path)
    # Without an explicit weights_only=True, torch would now execute the pickle.
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    yield path
    assert not marker.exists(), 'code from the checkpoint was executed'


def test_mmengine_paths_resume_load_from_init_cfg_are_weights_only(exploit, tmp_path):
    from mmengine.runner.checkpoint import load_checkpoint
    with pytest.raises(RuntimeError, match='refusing to load'):
        _load_checkpoint(str(exploit))  # Runner.resume / Runner.load_checkpoint (load_from)
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_checkpoint(torch.nn.Linear(1, 1), str(exploit))  # init_cfg=Pretrained


def test_runner_resume_refuses_code(exploit, tmp_path):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return dict(loss=(self.w * 0).sum())

    runner = Runner(model=Toy(), work_dir=str(tmp_path / 'w'), default_scope='mmengine',
                    train_dataloader=dict(dataset=[dict(inputs=torch.ones(1))] * 2,
                                          batch_size=1, sampler=dict(type='DefaultSampler'),
                                          collate_fn=dict(type='pseudo_collate')),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    train_cfg=dict(by_epoch=False, max_iters=1), resume=True,
                    load_from=str(exploit))
    with pytest.raises(RuntimeError, match='refusing to load'):
        runner.train()


def test_backbone_teacher_and_converter_refuse_code(exploit):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from mnsp_mm.checkpoint.convert import convert_official_checkpoint, load_official_encoder
    arch = dict(embed_dims=96, num_layers=1, num_heads=3, feedforward_channels=96)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        vit = MODELS.build(dict(type='TextViT', arch=arch, pretrained=str(exploit)))
        with pytest.raises(RuntimeError, match='refusing to load'):
            vit.init_weights()
        with pytest.raises(RuntimeError, match='refusing to load'):
            MODELS.build(dict(type='FrozenTeacher', backbone=dict(type='TextViT', arch=arch),
                              checkpoint=str(exploit)))
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_official_encoder(exploit)
    with pytest.raises(RuntimeError, match='refusing to load'):
        convert_official_checkpoint(exploit)


# ------------------------- issue #18 item 1: every CheckpointLoader scheme is weights-only
@pytest.fixture(params=['default', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1'])
def evil_ckpt(request, tmp_path, monkeypatch):
    """A crafted checkpoint, with and without torch's safe default switched off.

    Nothing here touches the network or the user's caches: the torch hub and mmengine
    cache dirs point into ``tmp_path`` and "downloading" copies the crafted file.
    """
    import shutil
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'meta': _Exploit(marker)}, path)
    if request.param != 'default':
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    downloads = []

    def fake_download(url, dst, *args, **kwargs):
        downloads.append(url)
        shutil.copy(path, dst)

    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    yield path, downloads
    assert not marker.exists(), 'code from the checkpoint was executed'


def _refused(filename):
    with pytest.raises(RuntimeError, match='refusing to load'):
        _load_checkpoint(filename, map_location='cpu')


def test_local_and_http_schemes_refuse_code(evil_ckpt):
    path, downloads = evil_ckpt
    _refused(str(path))
    _refused('https://example.invalid/ckpt/evil_https.pth')
    _refused('http://example.invalid/ckpt/evil_http.pth')
    assert len(downloads) == 2


def test_torchvision_scheme_refuses_code_downloaded_or_cached(evil_ckpt):
    import shutil
    from mmengine.runner.checkpoint import get_torchvision_models, load_checkpoint
    path, downloads = evil_ckpt
    _refused('torchvision://resnet18')  # downloaded into the hub cache ...
    assert len(downloads) == 1
    _refused('torchvision://resnet18')  # ... and read from it the second time
    assert len(downloads) == 1
    cached = torch.hub.get_dir() + '/checkpoints/'
    url = get_torchvision_models()['resnet34']
    shutil.copy(path, cached + url.rsplit('/', 1)[1])  # a file someone put in the cache
    _refused('modelzoo://resnet34')
    assert len(downloads) == 1
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_checkpoint(torch.nn.Linear(1, 1), 'torchvision://resnet18')
    from mmengine.model.weight_init import PretrainedInit
    with pytest.raises(RuntimeError, match='refusing to load'):  # init_cfg=Pretrained
        PretrainedInit(checkpoint='torchvision://resnet18')(torch.nn.Linear(1, 1))


def test_openmmlab_schemes_refuse_code_by_url_and_local_path(evil_ckpt):
    import json
    import shutil
    path, downloads = evil_ckpt
    home = os.environ['MMENGINE_HOME']
    os.makedirs(home, exist_ok=True)
    shutil.copy(path, os.path.join(home, 'evil_local.pth'))
    with open(os.path.join(home, 'open_mmlab.json'), 'w') as f:
        json.dump({'evil_url': 'https://example.invalid/evil_url.pth',
                   'evil_local': 'evil_local.pth'}, f)
    for prefix in ('open-mmlab://', 'openmmlab://'):
        _refused(prefix + 'evil_url')
        _refused(prefix + 'evil_local')
    assert downloads == ['https://example.invalid/evil_url.pth']  # then cached


def test_mmcls_scheme_refuses_code(evil_ckpt):
    from mmengine.runner.checkpoint import get_mmcls_models
    _, downloads = evil_ckpt
    _refused('mmcls://' + sorted(get_mmcls_models())[0])
    assert len(downloads) == 1


def test_pavi_scheme_refuses_code(evil_ckpt, monkeypatch):
    import shutil
    import sys
    import types
    path, _ = evil_ckpt

    class Model:
        name = 'evil.pth'

        def download(self, dst):
            shutil.copy(path, dst)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=lambda name: Model())
    monkeypatch.setitem(sys.modules, 'pavi', pavi)
    _refused('pavi://models/evil.pth')


def test_s3_and_petrel_schemes_refuse_code(evil_ckpt, monkeypatch):
    import sys
    import types
    path, _ = evil_ckpt
    reads = []

    class Client:
        def __init__(self, *args, **kwargs):
            pass

        def Get(self, filepath):  # noqa: N802  (petrel_client's name)
            reads.append(filepath)
            return path.read_bytes()

    petrel = types.ModuleType('petrel_client')
    petrel.client = types.SimpleNamespace(Client=Client)
    monkeypatch.setitem(sys.modules, 'petrel_client', petrel)
    monkeypatch.setitem(sys.modules, 'petrel_client.client', petrel.client)
    for name in ('s3://bucket/evil.pth', 'cluster1:s3://bucket/evil.pth',
                 'petrel://bucket/evil.pth'):
        _refused(name)
    assert len(reads) == 3


def test_every_registered_scheme_is_weights_only():
    import mmdet  # noqa: F401  (the libraries our configs import may register schemes)
    import mmocr  # noqa: F401
    import mmpretrain  # noqa: F401
    from mmengine.runner.checkpoint import CheckpointLoader

    from mnsp_mm.checkpoint.safe_load import SCHEME_LOADERS, unsafe_schemes
    assert unsafe_schemes() == []
    assert set(SCHEME_LOADERS) <= set(CheckpointLoader._schemes)


def test_empty_history_buffer_loads(tmp_path):
    """An empty numpy array (an unused HistoryBuffer) pickles ``bytes()``: allowed."""
    path = tmp_path / 'empty.pth'
    torch.save({'meta': {'message_hub': {'log_scalars': {'val/acc': HistoryBuffer()}}},
                'arr': np.zeros((0, 3), np.float32)}, path)
    loaded = load_checkpoint_file(path)
    assert len(loaded['meta']['message_hub']['log_scalars']['val/acc'].data[0]) == 0
    assert loaded['arr'].shape == (0, 3)


def test_bytes_with_an_argument_is_refused(tmp_path):
    class _Alloc:
        def __reduce__(self):
            return (bytes, (1 << 40, ))

    path = tmp_path / 'alloc.pth'
    torch.save({'x': _Alloc()}, path)
    with pytest.raises(RuntimeError, match='refusing to load'):
        load_checkpoint_file(path)


# ------------------------- issue #25 item 1: tools/publish_model.py loads weights only too
def test_publish_model_refuses_code_with_the_flag_set(tmp_path):
    """The tool in its own process with torch's safe default switched off."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'x': torch.zeros(1)}, 'meta': _Exploit(marker)}, evil)
    env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1', PYTHONPATH=str(root),
               OMP_NUM_THREADS='1')
    res = subprocess.run([sys.executable, 'tools/publish_model.py', str(evil),
                          str(tmp_path / 'out.pth')], cwd=root, env=env, capture_output=True,
                         text=True, timeout=120)
    assert not marker.exists(), 'code from the checkpoint was executed'
    assert res.returncode != 0 and not list(tmp_path.glob('out*'))
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith('publish_model: refusing to load') and str(evil) in last, res.stderr
    assert 'Traceback' not in res.stderr


def test_publish_model_strips_a_legacy_checkpoint(tmp_path):
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        'publish_model', Path(__file__).resolve().parents[1] / 'tools/publish_model.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src = tmp_path / 'legacy.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'iter': 3},
                'optimizer': {}}, src, _use_new_zipfile_serialization=False)
    out = tool.publish(str(src), str(tmp_path / 'rel.pth'))
    assert torch.load(out, weights_only=True)['state_dict']['w'].tolist() == [1., 1.]
    torch.save({'state_dict': torch.ones(2)}, src)
    with pytest.raises(KeyError, match='no "state_dict" dict'):
        tool.publish(str(src), str(tmp_path / 'rel.pth'))


# ------------------------------ issue #25 item 2: legacy (non-zip) checkpoints load
def test_legacy_checkpoint_loads_also_when_mapping_is_asked(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {}}, path,
               _use_new_zipfile_serialization=False)
    from mnsp_mm.checkpoint.safe_load import is_zip_checkpoint
    assert not is_zip_checkpoint(path)
    assert load_checkpoint_file(path, mmap=True)['state_dict']['w'].tolist() == [1., 1.]
    torch.save({'w': torch.ones(1)}, tmp_path / 'zip.pth')
    assert is_zip_checkpoint(tmp_path / 'zip.pth')
