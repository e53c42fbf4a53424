"""Registration into the registries of the OpenMMLab libraries we plug into.

A module that serves both pretraining (mmpretrain scope) and fine-tuning (mmocr scope), such
as the text ViT, is registered in both ``MODELS`` registries under the same name.
"""
from typing import Callable, Sequence


def _registry(scope: str, kind: str):
    if scope == 'mmpretrain':
        from mmpretrain import registry
    elif scope == 'mmocr':
        from mmocr import registry
    else:
        raise ValueError(f'unknown scope {scope!r}; expected "mmpretrain" or "mmocr"')
    return getattr(registry, kind)


def _register(kind: str, scopes: Sequence[str]) -> Callable[[type], type]:
    def wrap(cls: type) -> type:
        for scope in scopes:
            _registry(scope, kind).register_module(module=cls)
        return cls
    return wrap


def register_model(scopes: Sequence[str] = ('mmpretrain', )) -> Callable[[type], type]:
    """Class decorator: register a model part in the ``MODELS`` registry of each scope."""
    return _register('MODELS', scopes)


def register_dataset(scopes: Sequence[str] = ('mmpretrain', )) -> Callable[[type], type]:
    """Class decorator: register a dataset in the ``DATASETS`` registry of each scope."""
    return _register('DATASETS', scopes)


def register_transform(scopes: Sequence[str] = ('mmpretrain', )) -> Callable[[type], type]:
    """Class decorator: register a data transform in the ``TRANSFORMS`` registry of each scope."""
    return _register('TRANSFORMS', scopes)


def register_hook(scopes: Sequence[str] = ('mmpretrain', 'mmocr')) -> Callable[[type], type]:
    """Class decorator: register a runner hook in the ``HOOKS`` registry of each scope."""
    return _register('HOOKS', scopes)


def register_function(name: str) -> Callable[[Callable], Callable]:
    """Decorator: register a function (e.g. a ``collate_fn``) in mmengine's root ``FUNCTIONS``.

    The runner looks ``collate_fn`` types up in the root registry, which every scope's
    ``FUNCTIONS`` registry also falls back to, so one registration serves all scopes.
    """
    def wrap(fn: Callable) -> Callable:
        from mmengine.registry import FUNCTIONS
        FUNCTIONS.register_module(name=name, module=fn, force=True)
        return fn
    return wrap
