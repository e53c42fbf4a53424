"""Check the OpenMMLab stack and say what is wrong in one line each, instead of a deep ImportError.

    python -m mnsp_mm.utils.env_check      # exit 0 and one summary line when all is well
"""
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import List

# package -> (required version prefix or None, hint)
PINS = {
    'mmengine': ('0.10.7', 'pip install mmengine==0.10.7'),
    'mmcv': ('2.0.1', 'run `make env` (builds mmcv 2.0.1 with ops, cached per torch)'),
    'mmdet': ('3.1.0', 'pip install mmdet==3.1.0 (mmocr 1.0.1 rejects other versions)'),
    'mmocr': ('1.0.1', 'pip install mmocr==1.0.1'),
    'mmpretrain': ('1.2.0', 'pip install mmpretrain==1.2.0'),
}


def problems() -> List[str]:
    """Return one human-readable line per problem found (empty when the stack is usable)."""
    out = []
    try:
        import numpy
        if int(numpy.__version__.split('.')[0]) >= 2:
            out.append(f'numpy {numpy.__version__} is installed but imgaug (used by mmocr) '
                       f'needs numpy<2: pip install "numpy<2"')
    except ImportError:
        out.append('numpy is not installed')
    try:
        import torch
    except ImportError as err:
        return out + [f'torch does not import ({err}); run `make env`']
    try:
        from torchvision.ops import nms
        nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    except Exception as err:  # mismatched pairs fail with "operator torchvision::nms does not exist"
        out.append(f'torchvision does not work with torch {torch.__version__} '
                   f'({str(err).splitlines()[0]}); install a matching pair, e.g. '
                   f'torch==2.14.1 torchvision==0.29.1')
    for pkg, (want, hint) in PINS.items():
        try:
            have = version(pkg)
        except PackageNotFoundError:
            if pkg == 'mmcv' and _installed('mmcv-lite'):
                out.append('mmcv-lite is installed, but mmocr/mmdet need mmcv with compiled ops: '
                           + hint)
            else:
                out.append(f'{pkg} is not installed: {hint}')
            continue
        if want and have != want:
            out.append(f'{pkg} {have} is installed, {want} is required: {hint}')
    if not any(line.startswith(('mmcv ', 'mmcv-lite')) for line in out) and _installed('mmcv'):
        try:
            importlib.import_module('mmcv._ext')
        except ImportError as err:
            out.append(f'mmcv was built without ops (mmcv._ext: {err}); '
                       f'rebuild with `MMCV_FORCE_REBUILD=1 make env`')
    if not out:
        for mod in ('mmocr', 'mmpretrain'):
            try:
                importlib.import_module(mod)
            except Exception as err:  # version asserts inside the packages
                out.append(f'{mod} does not import: {type(err).__name__}: '
                           f'{str(err).splitlines()[0] if str(err) else ""}')
    return out


def _installed(pkg: str) -> bool:
    try:
        version(pkg)
        return True
    except PackageNotFoundError:
        return False


def main() -> int:
    found = problems()
    for line in found:
        print(f'[env_check] {line}', file=sys.stderr)
    if found:
        return 1
    import torch
    print(f'[env_check] ok: torch {torch.__version__}, mmcv {version("mmcv")} with ops, '
          f'mmengine {version("mmengine")}, mmpretrain {version("mmpretrain")}, '
          f'mmocr {version("mmocr")}, mmdet {version("mmdet")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
