from .mnsp_runner import MnspRunner
from .runner import add_runner_args, build_runner, load_config, parse_runner_args, scope_of

__all__ = ['MnspRunner', 'add_runner_args', 'build_runner', 'load_config', 'parse_runner_args',
           'scope_of']
