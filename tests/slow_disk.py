"""Test helper: a slow local disk, so a test can kill a run while a checkpoint is being written.

A test config imports it (``custom_imports``); it replaces mmengine's ``LocalBackend.put``
(what ``save_checkpoint`` writes with) by one that writes half of a checkpoint, waits
``SLOW_DISK_SECONDS`` (default 0.4 s; a paper-size checkpoint takes ~1.5 s to write on a
CPU machine) and writes the rest.
"""
import os
import os.path as osp
import time

from mmengine.fileio.backends import LocalBackend

_put = LocalBackend.put


def _slow_put(self, obj: bytes, filepath) -> None:
    if '.pth' not in osp.basename(str(filepath)):
        return _put(self, obj, filepath)
    os.makedirs(osp.dirname(str(filepath)) or '.', exist_ok=True)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
        time.sleep(float(os.environ.get('SLOW_DISK_SECONDS', '0.4')))
        f.write(obj[len(obj) // 2:])


LocalBackend.put = _slow_put
