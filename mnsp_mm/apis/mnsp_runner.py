"""The runner our configs name (``runner_type = 'MnspRunner'``).

MMOCR's and mmpretrain's ``tools/train.py`` / ``tools/test.py`` (and so ``mim train``) build
``RUNNERS.build(cfg)`` when a config sets ``runner_type``, so putting the preparation here,
instead of in our command line tools, gives every tool the same run.
"""
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .prepare import check_data, init_cpu_dist, prepare_config


@RUNNERS.register_module()
class MnspRunner(Runner):
    """mmengine's ``Runner`` plus :mod:`mnsp_mm.apis.prepare`.

    ``from_cfg`` completes the config (default hooks, label length, counting collate) and
    starts a CPU process group for ``--launcher pytorch`` without GPUs; ``train``, ``val``
    and ``test`` first check the data of the loaders they will build, so a wrong path fails
    in seconds with the config key named.
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'MnspRunner':
        from ..utils.config_text import OnceFormattedConfig
        prepare_config(cfg)
        init_cpu_dist(cfg)
        # mmengine re-formats the config at every checkpoint save
        return super().from_cfg(OnceFormattedConfig.of(cfg))

    def train(self):
        check_data(self.cfg, ('train', 'val') if self._val_loop is not None else ('train', ))
        return super().train()

    def val(self):
        check_data(self.cfg, ('val', ))
        return super().val()

    def test(self):
        check_data(self.cfg, ('test', ))
        return super().test()
