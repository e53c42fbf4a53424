"""mnsp_mm: self-supervised pretraining for scene text recognition, as an OpenMMLab plugin."""
import os.path as osp
import re
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
version = re.search(r"__version__ = '([^']+)'",
                    Path(HERE, 'mnsp_mm', 'version.py').read_text()).group(1)

#: What a wheel carries under ``mnsp_mm/.mim/``, as MMOCR's and mmpretrain's wheels do, so
#: ``mim train mnsp_mm CONFIG`` finds our train script and configs, and an installed copy
#: has the configs (with their dictionaries), tools and dataset preparer configs.
MIM_FILES = ('configs', 'tools', 'dataset_zoo', 'model-index.yml')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` into ``mnsp_mm/.mim`` of the build.

    Copied into the build directory, not the checkout (MMOCR's ``setup.py`` writes them
    into its source tree). Editable installs skip it: they read the checkout itself.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = osp.join(self.build_lib, 'mnsp_mm', '.mim')
        shutil.rmtree(mim, ignore_errors=True)
        for name in MIM_FILES:
            src, dst = osp.join(HERE, name), osp.join(mim, name)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                self.mkpath(mim)
                shutil.copyfile(src, dst)


setup(
    name='mnsp_mm',
    version=version,
    description='MNSP / LMIM / MAERec self-supervised pretraining for scene text recognition '
                '(mmpretrain + MMOCR plugin)',
    long_description=Path(HERE, 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mnsp_mm', 'mnsp_mm.*']),
    cmdclass={'build_py': BuildPyWithMim},
    python_requires='>=3.8',
    # The exact, tested pins live in requirements/ (installed by tools/setup_env.sh);
    # these are the loose bounds a user installing into an existing stack needs.
    install_requires=[
        'mmengine>=0.10,<0.11', 'mmcv>=2.0.0,<2.1.0', 'mmpretrain>=1.2,<1.3',
        'mmocr>=1.0.1,<1.1', 'mmdet>=3.0,<3.2', 'numpy<2', 'lmdb', 'Pillow',
    ],
    extras_require={'mim': ['openmim>=0.3.9']},
    license='Apache-2.0',
    zip_safe=False,
)
