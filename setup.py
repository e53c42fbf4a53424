"""mnsp_mm: self-supervised pretraining for scene text recognition, as an OpenMMLab plugin."""
import re
from pathlib import Path

from setuptools import find_packages, setup

version = re.search(r"__version__ = '([^']+)'",
                    Path(__file__).with_name('mnsp_mm').joinpath('version.py').read_text()).group(1)

setup(
    name='mnsp_mm',
    version=version,
    description='MNSP / LMIM / MAERec self-supervised pretraining for scene text recognition '
                '(mmpretrain + MMOCR plugin)',
    long_description=Path(__file__).with_name('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mnsp_mm', 'mnsp_mm.*']),
    python_requires='>=3.8',
    # The exact, tested pins live in requirements/ (installed by tools/setup_env.sh);
    # these are the loose bounds a user installing into an existing stack needs.
    install_requires=[
        'mmengine>=0.10,<0.11', 'mmcv>=2.0.0,<2.1.0', 'mmpretrain>=1.2,<1.3',
        'mmocr>=1.0.1,<1.1', 'mmdet>=3.0,<3.2', 'numpy<2', 'lmdb', 'Pillow',
    ],
    license='Apache-2.0',
    zip_safe=False,
)
