import argparse
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mnsp_mm  # noqa: F401  (installs the allow-list)
from mnsp_mm.utils.safe_load import load_checkpoint_file


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

    from mnsp_mm.utils.convert import convert_official_checkpoint, load_official_encoder
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
