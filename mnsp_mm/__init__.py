"""mnsp_mm: MNSP / LMIM / MAERec self-supervised pretraining for scene text recognition.

Importing the package registers its modules into the mmpretrain and mmocr registries and
allows the exact classes our checkpoint formats pickle for ``torch.load(weights_only=True)``.
Configs load it with ``custom_imports = dict(imports=['mnsp_mm'], allow_failed_imports=False)``.
"""
from .checkpoint.safe_load import allow_checkpoint_globals
from .version import __version__

allow_checkpoint_globals()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401  (registration)

__all__ = ['__version__']
