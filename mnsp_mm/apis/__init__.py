from .runner import add_runner_args, build_runner, load_config, parse_runner_args, scope_of

__all__ = ['add_runner_args', 'build_runner', 'load_config', 'parse_runner_args', 'scope_of']
