"""[cls] attention maps of a TextViT encoder per input scale, written as PNGs and JSON.

The work behind ``tools/analysis/attention_maps.py`` (its command line) and the demo's
attention stage: :func:`run` takes the tool's options (an ``argparse.Namespace`` or any object
with the same attributes: ``config, checkpoint, data, num, scales, layer, out, name,
batch_size, alpha, cmap``). ``--data`` is an MMOCR textrecog json, a directory holding one
(``textrecog_test.json`` preferred), or a directory of images. Writes to ``out``:
``attention_<name>.png`` (one row per image: input, then one overlay per scale),
``attention_<name>/NNN_<stem>.png`` and ``attention_<name>.json``; with glyph masks
(``mask_path``) the mean text-attention fraction per scale next to its chance level (see
:mod:`mnsp_mm.analysis.attention`).
"""
import json
import math
import re
from pathlib import Path

import numpy as np

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp')


# ----------------------------------------------------------------------------- data

def find_annotation(data):
    """The annotation json (or None for a plain image directory) behind ``--data``."""
    path = Path(data)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f'--data not found: {path}')
    candidates = sorted(path.glob('textrecog_*.json'))
    if (path / 'textrecog_test.json').is_file():
        return path / 'textrecog_test.json'
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ', '.join(c.name for c in candidates)
        raise ValueError(f'{path} holds several annotations ({names}): pass one as --data')
    return None


def list_samples(data, num):
    """``[{'img': Path, 'mask': Path or None, 'text': str}]``, the first ``num`` of ``--data``."""
    ann = find_annotation(data)
    if ann is None:
        images = sorted(f for f in Path(data).iterdir() if f.suffix.lower() in IMAGE_EXTS)
        if not images:
            raise ValueError(f'{data}: no textrecog_*.json annotation and no images '
                             f'({", ".join(IMAGE_EXTS)})')
        return [dict(img=f, mask=None, text='') for f in images[:num]], None
    try:
        content = json.loads(ann.read_text(encoding='utf-8'))
    except (OSError, ValueError) as e:
        raise ValueError(f'annotation {ann}: cannot read it as json ({e})') from e
    entries = content.get('data_list') if isinstance(content, dict) else content
    if not isinstance(entries, list) or not entries:
        raise ValueError(f'annotation {ann}: no entries (expected MMOCR {{"data_list": [...]}})')
    root = ann.parent
    samples = []
    for i, entry in enumerate(entries[:num]):
        if not isinstance(entry, dict) or 'img_path' not in entry:
            raise ValueError(f'annotation {ann}: entry {i} has no img_path')
        instances = entry.get('instances') or [{}]
        samples.append(dict(
            img=root / entry['img_path'],
            mask=root / entry['mask_path'] if entry.get('mask_path') else None,
            text=str(instances[0].get('text', ''))))
    return samples, ann


def _resize(array, size):
    import cv2
    h, w = size
    shrink = h <= array.shape[0] and w <= array.shape[1]
    return cv2.resize(array, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def load_sample(sample, size):
    """RGB uint8 (H, W, 3) image and float (H, W) mask in [0, 1] (or None), at ``size``."""
    import cv2
    if not sample['img'].is_file():
        raise FileNotFoundError(f'image not found: {sample["img"]}')
    bgr = cv2.imread(str(sample['img']), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'cannot decode image {sample["img"]}')
    mask = None
    if sample['mask'] is not None:
        if not sample['mask'].is_file():
            raise FileNotFoundError(f'glyph mask not found: {sample["mask"]}')
        raw = cv2.imread(str(sample['mask']), cv2.IMREAD_GRAYSCALE)
        if raw is None:
            raise ValueError(f'cannot decode glyph mask {sample["mask"]}')
        if raw.shape != bgr.shape[:2]:
            raise ValueError(f'glyph mask {sample["mask"]} is {raw.shape[0]}x{raw.shape[1]} but '
                             f'its image is {bgr.shape[0]}x{bgr.shape[1]}')
        mask = np.clip(_resize((raw > 127).astype(np.float32), size), 0., 1.)
    return _resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size), mask


# ----------------------------------------------------------------------------- figures

def _figure(rows, cols, cell_w=3.2, cell_h=1.15):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(cols * cell_w, rows * cell_h), dpi=100)
    FigureCanvasAgg(fig)
    axes = np.array(fig.subplots(rows, cols, squeeze=False))
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def _scale_label(scale, grid, frac=None, chance=None):
    label = f'{scale[0]}x{scale[1]} ({grid[0]}x{grid[1]} tokens)'
    if frac is not None:
        label += f': text {frac:.2f} (chance {chance:.2f})'
    return label


def save_image_figure(path, image, overlays, labels, title):
    """One image: the input on top, one overlay per scale below."""
    fig, axes = _figure(1 + len(overlays), 1, cell_w=4.8, cell_h=1.5)
    axes[0, 0].imshow(image, interpolation='nearest')
    axes[0, 0].set_title(title, fontsize=9)
    for ax, ov, label in zip(axes[1:, 0], overlays, labels):
        ax.imshow(ov, interpolation='nearest')
        ax.set_title(label, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def save_grid_figure(path, images, overlays, labels, titles, heading):
    """All images: one row each, input then one overlay per scale."""
    n, cols = len(images), 1 + len(overlays[0])
    fig, axes = _figure(n, cols)
    for i in range(n):
        axes[i, 0].imshow(images[i], interpolation='nearest')
        axes[i, 0].set_title(titles[i], fontsize=7)
        for j, (ov, label) in enumerate(zip(overlays[i], labels[i]), start=1):
            axes[i, j].imshow(ov, interpolation='nearest')
            axes[i, j].set_title(label, fontsize=7)
    fig.suptitle(heading, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


# ----------------------------------------------------------------------------- main

def _mean(values):
    return float(np.mean(values)) if values else None


def run(args) -> dict:
    """Encode, draw and measure; returns the summary also written as JSON."""
    import torch

    from ..apis import load_config
    from . import attention as A
    from .model_input import input_spec, load_backbone, preprocess

    cfg = load_config(args.config)
    if not Path(args.checkpoint).is_file():
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    samples, ann = list_samples(args.data, args.num)
    model = load_backbone(cfg, args.checkpoint)
    ph, pw = model.patch_size
    for s in args.scales:
        if s[0] % ph or s[1] % pw:
            raise ValueError(f'scale {s[0]}x{s[1]} is not divisible by the patch size {ph}x{pw}')
    if not -len(model.layers) <= args.layer < len(model.layers):
        raise ValueError(f'--layer {args.layer} out of range: the model has '
                         f'{len(model.layers)} layers')
    spec = input_spec(cfg)
    scales = list(dict.fromkeys(args.scales))
    base = max(scales, key=lambda s: (s[0] * s[1], s))
    loaded = [load_sample(s, base) for s in samples]
    images = [im for im, _ in loaded]

    maps = {s: [] for s in scales}
    for start in range(0, len(images), args.batch_size):
        x = preprocess(images[start:start + args.batch_size], spec)
        for s, m in A.cls_attention(model, x, scales, args.layer).items():
            maps[s].append(m)
    maps = {s: torch.cat(m) for s, m in maps.items()}

    with_mask = [i for i, (_, m) in enumerate(loaded) if m is not None]
    frac = {s: [None] * len(images) for s in scales}
    chance = {s: [None] * len(images) for s in scales}
    if with_mask:
        masks = torch.from_numpy(np.stack([loaded[i][1] for i in with_mask]))
        for s in scales:
            f, c = A.text_attention_fraction(maps[s][with_mask], masks, return_chance=True)
            for k, i in enumerate(with_mask):
                frac[s][i], chance[s][i] = float(f[k]), float(c[k])

    name = args.name or f'{Path(args.config).stem}_{Path(args.checkpoint).stem}'
    name = re.sub(r'[^\w.+-]+', '_', name)
    out = Path(args.out)
    per_image_dir = out / f'attention_{name}'
    per_image_dir.mkdir(parents=True, exist_ok=True)

    grids = {s: (s[0] // ph, s[1] // pw) for s in scales}
    records, all_overlays, all_labels, titles = [], [], [], []
    for i, (sample, image) in enumerate(zip(samples, images)):
        overlays = [A.overlay(image, maps[s][i], alpha=args.alpha, cmap=args.cmap)
                    for s in scales]
        labels = [_scale_label(s, grids[s], frac[s][i], chance[s][i]) for s in scales]
        title = sample['img'].name + (f"  '{sample['text']}'" if sample['text'] else '')
        png = per_image_dir / f'{i:03d}_{sample["img"].stem}.png'
        save_image_figure(png, image, overlays, labels, title)
        all_overlays.append(overlays)
        all_labels.append(labels)
        titles.append(title)
        records.append(dict(
            img_path=str(sample['img']), mask_path=str(sample['mask']) if sample['mask'] else None,
            text=sample['text'], png=str(png),
            text_attention_fraction={f'{s[0]}x{s[1]}': frac[s][i] for s in scales},
            chance={f'{s[0]}x{s[1]}': chance[s][i] for s in scales}))
    grid_png = out / f'attention_{name}.png'
    save_grid_figure(grid_png, images, all_overlays, all_labels, titles,
                     f'[cls] attention, layer {args.layer}: {name}')

    summary = {}
    for s in scales:
        m = maps[s].flatten(1)
        entropy = -(m * m.clamp_min(1e-12).log()).sum(1) / math.log(m.shape[1]) \
            if m.shape[1] > 1 else torch.zeros(m.shape[0])
        fr = [frac[s][i] for i in with_mask]
        ch = [chance[s][i] for i in with_mask]
        mean_fr, mean_ch = _mean(fr), _mean(ch)
        summary[f'{s[0]}x{s[1]}'] = dict(
            grid=list(grids[s]),
            text_attention_fraction=mean_fr,
            text_attention_fraction_std=float(np.std(fr)) if fr else None,
            chance=mean_ch,
            ratio_to_chance=mean_fr / mean_ch if fr and mean_ch > 0 else None,
            normalized_entropy=float(entropy.mean()))
    note = None
    if not with_mask:
        note = ('no glyph masks (the data has no mask_path entries): text-attention fraction '
                'skipped; render data with masks: tools/render_synth.py --masks')
    elif len(with_mask) < len(images):
        note = f'fractions over the {len(with_mask)} of {len(images)} images that have masks'
    result = dict(
        name=name, config=str(args.config), checkpoint=str(args.checkpoint),
        data=str(ann if ann is not None else args.data), layer=args.layer,
        input_order=spec.channel_order, base_size=list(base), num_images=len(images),
        num_with_masks=len(with_mask), scales=summary, note=note, grid_png=str(grid_png),
        images=records)
    json_path = out / f'attention_{name}.json'
    json_path.write_text(json.dumps(result, indent=2), encoding='utf-8')

    print(f'[cls] attention, layer {args.layer}, {len(images)} images '
          f'({len(with_mask)} with glyph masks), input {spec.channel_order.upper()} '
          f'mean={list(spec.mean)} std={list(spec.std)}')
    print(f'{"scale":>8} {"tokens":>7} {"text-attn":>10} {"chance":>7} {"ratio":>6} '
          f'{"entropy":>8}')
    for key, row in summary.items():
        def fmt(v, w):
            return f'{v:>{w}.3f}' if v is not None else f'{"-":>{w}}'
        print(f'{key:>8} {"x".join(map(str, row["grid"])):>7} '
              f'{fmt(row["text_attention_fraction"], 10)} {fmt(row["chance"], 7)} '
              f'{fmt(row["ratio_to_chance"], 6)} {fmt(row["normalized_entropy"], 8)}')
    if note:
        print(f'note: {note}')
    print(f'wrote {grid_png}, {json_path} and {len(images)} images in {per_image_dir}')
    return result
