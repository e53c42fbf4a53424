"""An mmengine ``Config`` that formats its text once.

``Config.pretty_text`` runs yapf over the whole config, about 5-15 s for a recogniser config
on a small CPU, and mmengine's Runner asks for it at start-up (log and dump) and again at
every checkpoint save (``meta['cfg']``). A tiny CPU run then spends more time formatting its
config than training (measured in ``tools/demo.py``: 9 calls, ~40% of a fine-tuning stage).
"""
import json

from mmengine.config import Config


class OnceFormattedConfig(Config):
    """``Config`` whose ``pretty_text`` is cached until the config's content changes."""

    @property
    def pretty_text(self) -> str:
        # repr of the plain dict is milliseconds; a changed config gets a fresh text
        key = json.dumps(self._cfg_dict.to_dict(), sort_keys=True, default=repr)
        cached = self.__dict__.get('_pretty_cache')
        if cached is None or cached[0] != key:
            cached = (key, Config.pretty_text.fget(self))
            object.__setattr__(self, '_pretty_cache', cached)
        return cached[1]

    @classmethod
    def of(cls, cfg: Config) -> 'OnceFormattedConfig':
        """The same config (sharing its content) with the cached text."""
        if isinstance(cfg, cls):
            return cfg
        other = cls.__new__(cls)
        for key, value in cfg.__dict__.items():
            object.__setattr__(other, key, value)
        return other
