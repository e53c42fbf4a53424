"""Writing crops as MMOCR text recognition data: ``textrecog_*.json`` + PNGs, or an LMDB."""
import json
from pathlib import Path
from typing import Dict, Iterable, Sequence, Union

import cv2
import lmdb
import numpy as np

from .render import SynthSample


def encode_image(image: np.ndarray, ext: str = '.png') -> bytes:
    """Encode a (H, W, 3) RGB or (H, W) gray uint8 array as ``ext`` (``.png`` / ``.jpg``)."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f'could not encode an image as {ext}')
    return buf.tobytes()


class TextRecogJsonWriter:
    """Writes MMOCR's ``textrecog_{name}.json`` plus ``imgs/{name}/000000.png`` files.

    Entries are ``{"img_path": "imgs/train/000000.png", "instances": [{"text": ...}],
    "font": ...}`` (paths relative to ``out_dir``, MMOCR's ``data_root``; the font the crop was
    drawn with, so font splits can be checked on the data), with ``"mask_path"`` when masks
    are written and ``"instances": []`` when unlabeled. The json is written by :meth:`close`.
    """

    def __init__(self, out_dir: Union[str, Path], name: str = 'train', labeled: bool = True,
                 masks: bool = False, image_ext: str = '.png'):
        self.out_dir, self.name = Path(out_dir), name
        self.labeled, self.masks, self.image_ext = labeled, masks, image_ext
        self.data_list = []
        (self.out_dir / 'imgs' / name).mkdir(parents=True, exist_ok=True)
        if masks:
            (self.out_dir / 'masks' / name).mkdir(parents=True, exist_ok=True)

    def add(self, sample: SynthSample) -> None:
        stem = f'{len(self.data_list):06d}'
        entry = {'img_path': f'imgs/{self.name}/{stem}{self.image_ext}',
                 'instances': [{'text': sample.text}] if self.labeled else [],
                 'font': sample.font}
        (self.out_dir / entry['img_path']).write_bytes(encode_image(sample.image,
                                                                    self.image_ext))
        if self.masks:
            entry['mask_path'] = f'masks/{self.name}/{stem}.png'
            (self.out_dir / entry['mask_path']).write_bytes(encode_image(sample.mask))
        self.data_list.append(entry)

    def close(self) -> Path:
        path = self.out_dir / f'textrecog_{self.name}.json'
        meta = {'dataset_type': 'TextRecogDataset', 'task_name': 'textrecog'}
        path.write_text(json.dumps({'metainfo': meta, 'data_list': self.data_list}))
        return path


class LmdbWriter:
    """Writes the MMOCR / Union14M LMDB layout into the directory ``path``.

    Keys: ``num-samples`` (ascii int), ``image-%09d`` (encoded image, 1-based),
    ``label-%09d`` (utf-8 text, if labeled), ``mask-%09d`` (PNG, if masks). Anything already
    in the database is dropped. Writes are committed every ``commit_every`` samples; the map
    starts at ``map_size`` bytes and doubles whenever it is full.
    """

    def __init__(self, path: Union[str, Path], labeled: bool = True, masks: bool = False,
                 image_ext: str = '.png', map_size: int = 64 << 20, commit_every: int = 1000):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.labeled, self.masks, self.image_ext = labeled, masks, image_ext
        self.commit_every, self.count, self._pending = commit_every, 0, []
        self._env = lmdb.open(str(self.path), map_size=map_size)
        with self._env.begin(write=True) as txn:
            txn.drop(self._env.open_db(), delete=False)

    def add(self, sample: SynthSample) -> None:
        self.count += 1
        index = f'{self.count:09d}'
        self._pending.append((f'image-{index}', encode_image(sample.image, self.image_ext)))
        if self.labeled:
            self._pending.append((f'label-{index}', sample.text.encode('utf-8')))
        if self.masks:
            self._pending.append((f'mask-{index}', encode_image(sample.mask)))
        if self.count % self.commit_every == 0:
            self._commit()

    def _commit(self) -> None:
        while True:
            try:
                with self._env.begin(write=True) as txn:
                    for key, value in self._pending:
                        txn.put(key.encode('ascii'), value)
                break
            except lmdb.MapFullError:
                self._env.set_mapsize(self._env.info()['map_size'] * 2)
        self._pending.clear()

    def close(self) -> Path:
        self._pending.append(('num-samples', str(self.count).encode('ascii')))
        self._commit()
        self._env.close()
        return self.path


def write_textrecog_json(out_dir: Union[str, Path], samples: Iterable[SynthSample],
                         name: str = 'train', labeled: bool = True, masks: bool = False,
                         image_ext: str = '.png') -> Path:
    """Write ``samples`` as an MMOCR text recognition data set; see :class:`TextRecogJsonWriter`.

    Returns:
        Path of ``out_dir/textrecog_{name}.json``.
    """
    writer = TextRecogJsonWriter(out_dir, name, labeled, masks, image_ext)
    for sample in samples:
        writer.add(sample)
    return writer.close()


def write_lmdb(path: Union[str, Path], samples: Iterable[SynthSample], labeled: bool = True,
               masks: bool = False, image_ext: str = '.png') -> Path:
    """Write ``samples`` into an LMDB directory; see :class:`LmdbWriter`.

    Returns:
        ``path``.
    """
    writer = LmdbWriter(path, labeled, masks, image_ext)
    for sample in samples:
        writer.add(sample)
    return writer.close()


def write_dataset(out: Union[str, Path], samples: Iterable[SynthSample],
                  fmt: Union[str, Sequence[str]] = ('json',), labeled: bool = True,
                  masks: bool = False, name: str = 'train',
                  image_ext: str = '.png') -> Dict[str, Path]:
    """Write ``samples`` in one pass into every format of ``fmt``.

    ``json`` goes to ``out/textrecog_{name}.json`` + ``out/imgs/{name}/`` (+ ``out/masks/``),
    ``lmdb`` to the directory ``out/lmdb/{name}``.

    Returns:
        ``{format: path}`` of what was written.
    """
    fmt = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    if not fmt or set(fmt) - {'json', 'lmdb'}:
        raise ValueError(f"fmt must hold 'json' and/or 'lmdb', got {fmt}")
    writers = {}
    if 'json' in fmt:
        writers['json'] = TextRecogJsonWriter(out, name, labeled, masks, image_ext)
    if 'lmdb' in fmt:
        writers['lmdb'] = LmdbWriter(Path(out) / 'lmdb' / name, labeled, masks, image_ext)
    for sample in samples:
        for writer in writers.values():
            writer.add(sample)
    return {key: writer.close() for key, writer in writers.items()}
