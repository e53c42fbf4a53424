"""Registration into the registries of the OpenMMLab libraries we plug into.

A module that serves both pretraining (mmpretrain scope) and fine-tuning (mmocr scope), such
as the text ViT, is registered in both ``MODELS`` registries under the same name.

Our names never collide with a library's: MMOCR's ``dev-1.x`` branch (what the Union14M /
MAERec instructions install, still versioned 1.0.1) registers its own ``MAERec`` and
``MAERecDecoder``, so ours are ``TextMAERec`` / ``TextMAERecDecoder`` and our configs use
those. The old names stay as *aliases*, registered only where nothing owns them yet (MMOCR
1.0.1): on dev-1.x ``MAERecDecoder`` keeps meaning MMOCR's class.
"""
import logging
from typing import Callable, Sequence


def _registry(scope: str, kind: str):
    if scope == 'mmpretrain':
        from mmpretrain import registry
    elif scope == 'mmocr':
        from mmocr import registry
    else:
        raise ValueError(f'unknown scope {scope!r}; expected "mmpretrain" or "mmocr"')
    return getattr(registry, kind)


def _register(kind: str, scopes: Sequence[str],
              aliases: Sequence[str] = ()) -> Callable[[type], type]:
    def wrap(cls: type) -> type:
        for scope in scopes:
            registry = _registry(scope, kind)
            registry.register_module(module=cls)
            for alias in aliases:
                owner = registry.module_dict.get(alias)
                if owner is None:
                    registry.register_module(name=alias, module=cls)
                elif owner is not cls:
                    from mmengine.logging import print_log
                    print_log(f'{scope} already registers {alias} ({owner.__module__}); '
                              f'ours is {cls.__name__}', 'current', logging.DEBUG)
        return cls
    return wrap


def register_model(scopes: Sequence[str] = ('mmpretrain', ),
                   aliases: Sequence[str] = ()) -> Callable[[type], type]:
    """Class decorator: register a model part in the ``MODELS`` registry of each scope.

    Args:
        scopes: the libraries whose registry gets the class, under its class name.
        aliases: further names, each registered only where no other class has it (an old
            name of ours that a library may own, see the module docstring).
    """
    return _register('MODELS', scopes, aliases)


def register_dataset(scopes: Sequence[str] = ('mmpretrain', )) -> Callable[[type], type]:
    """Class decorator: register a dataset in the ``DATASETS`` registry of each scope."""
    return _register('DATASETS', scopes)


def register_transform(scopes: Sequence[str] = ('mmpretrain', )) -> Callable[[type], type]:
    """Class decorator: register a data transform in the ``TRANSFORMS`` registry of each scope."""
    return _register('TRANSFORMS', scopes)


def register_metric(scopes: Sequence[str] = ('mmocr', )) -> Callable[[type], type]:
    """Class decorator: register an evaluation metric in the ``METRICS`` registry of each scope."""
    return _register('METRICS', scopes)


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


def register_optim_wrapper(scopes: Sequence[str] = ('mmpretrain', 'mmocr')
                           ) -> Callable[[type], type]:
    """Class decorator: register an optimiser wrapper in ``OPTIM_WRAPPERS`` of each scope."""
    return _register('OPTIM_WRAPPERS', scopes)
