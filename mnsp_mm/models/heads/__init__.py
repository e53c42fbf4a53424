from .pixel_head import TextMAEHead, patchify, unpatchify

__all__ = ['TextMAEHead', 'patchify', 'unpatchify']
