"""Read an MMOCR text recognition set with Tesseract; write per-crop predictions (JSONL).

    python tools/analysis/tesseract_read.py DATA_ROOT SET OUT_DIR   # textrecog_SET.json

The rows are those of the ``TextPredictionDump`` metric, so the demo's reading table scores
Tesseract like the recognisers. Needs the ``tesseract`` command (Debian ``tesseract-ocr``).
"""
import argparse
import sys
from pathlib import Path

from mnsp_mm.evaluation.tesseract import read_textrecog_set, tesseract_version


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data_root', help='the set\'s data_root (holds textrecog_SET.json)')
    p.add_argument('set', help='the set name: reads DATA_ROOT/textrecog_SET.json')
    p.add_argument('out_dir', help='writes OUT_DIR/SET.jsonl')
    args = p.parse_args(argv)
    if tesseract_version() is None:
        sys.exit('tesseract is not installed (Debian: apt-get install tesseract-ocr)')
    out = read_textrecog_set(Path(args.data_root), f'textrecog_{args.set}.json',
                             Path(args.out_dir) / f'{args.set}.jsonl')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
