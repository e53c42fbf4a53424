"""Tesseract as a fixed reference reader on MMOCR text recognition sets (optional).

Tesseract 5 (Debian ``tesseract-ocr``, installed by ``tools/setup_env.sh`` when it can) reads
each crop as one text line (``--psm 7``) after a bicubic upscale (its LSTM wants text some
tens of pixels high; 32-px crops read worse). All crops of a set go through one process via a
list file, one page per image. It writes the rows :class:`TextPredictionDump` writes, so the
reading table treats it like any other method.
"""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional

from PIL import Image


def tesseract_version() -> Optional[str]:
    """``'tesseract 5.3.0'``, or None when the ``tesseract`` command is not installed."""
    exe = shutil.which('tesseract')
    if exe is None:
        return None
    out = subprocess.run([exe, '--version'], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def read_crops(paths: List[Path], scale: int = 3, psm: int = 7) -> List[str]:
    """Tesseract's text for each crop, in order (one process, one thread).

    Raises:
        RuntimeError: if tesseract fails or returns a different number of pages.
    """
    with tempfile.TemporaryDirectory() as tmp:
        listed = []
        for i, path in enumerate(paths):
            with Image.open(path) as im:
                big = im.convert('RGB').resize((im.width * scale, im.height * scale),
                                               Image.BICUBIC)
            listed.append(str(Path(tmp) / f'{i:06d}.png'))
            big.save(listed[-1])
        list_file = Path(tmp) / 'list.txt'
        list_file.write_text('\n'.join(listed) + '\n')
        out = subprocess.run(['tesseract', str(list_file), 'stdout', '--psm', str(psm)],
                             capture_output=True, text=True,
                             env=dict(os.environ, OMP_THREAD_LIMIT='1'))
    pages = out.stdout.split('\f')[:len(paths)]
    if out.returncode != 0 or len(pages) != len(paths):
        raise RuntimeError(f'tesseract failed on {len(paths)} crops (exit {out.returncode}, '
                           f'{len(pages)} pages): {out.stderr[-500:]}')
    return [page.strip().replace('\n', ' ') for page in pages]


def read_textrecog_set(data_root: Path, ann_file: str, out_file: Path) -> Path:
    """Read every crop of an MMOCR ``textrecog_*.json`` set; write prediction rows (JSONL)."""
    data_root = Path(data_root)
    entries = json.loads((data_root / ann_file).read_text())['data_list']
    texts = read_crops([data_root / e['img_path'] for e in entries])
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, 'w') as f:
        for index, (entry, text) in enumerate(zip(entries, texts)):
            f.write(json.dumps(dict(index=index, img_path=entry['img_path'],
                                    gt=entry['instances'][0]['text'], pred=text)) + '\n')
    return out_file
