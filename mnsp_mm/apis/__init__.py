from .runner import build_runner, load_config, scope_of

__all__ = ['build_runner', 'load_config', 'scope_of']
