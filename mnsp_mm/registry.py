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
