"""Label-free diagnostics of a pretrained TextViT encoder, before any fine-tuning.

Two questions about a frozen encoder, answered without training a recogniser:

* *Do its tokens hold what reading needs?* :func:`ridge_probe` fits a linear read-out of the
  first character and of the word length from the column features (patch tokens averaged over
  the grid's rows, one vector per column) of labeled crops, and scores it on other crops;
* *Has it collapsed?* :func:`collapse_stats` measures how much the tokens vary across images
  and how many directions the [cls] tokens span.

:func:`probe_encoder` runs both on two MMOCR textrecog annotations (the work of
``tools/analysis/probe_encoder.py``); a random-init encoder (``checkpoint=None``) is the
reference row: a pretrained one should beat it.
"""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from ..evaluation.bootstrap import bootstrap_mean
from .attention_maps import list_samples, load_sample
from .model_input import calibrate_batchnorm, input_spec, load_backbone, preprocess

FIRST_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'
MIN_LENGTH, MAX_LENGTH = 2, 12  # word lengths are clipped to this range: 11 classes
RIDGE_LAM_PER_FEATURE = 1e-2


# ----------------------------------------------------------------------------- features

def extract_features(cfg, checkpoint: Optional[str], ann_file, num: int, batch_size: int = 64,
                     keep_tokens: bool = False, seed: int = 0) -> Dict:
    """Encode the first ``num`` crops of an annotation with the config's frozen encoder.

    Crops are resized to the backbone's ``img_size`` and normalised as the config's
    data preprocessor does (:func:`~.model_input.input_spec`).

    Args:
        cfg: an mmengine ``Config`` with ``model.backbone`` (pretraining or fine-tuning).
        checkpoint: a checkpoint :func:`~.model_input.load_backbone` reads, or ``None`` for the
            random initialisation (seeded with ``seed``; its BatchNorms get the running
            statistics of the first 512 crops, :func:`~.model_input.calibrate_batchnorm`).
        ann_file: an MMOCR textrecog json (``data_list`` entries with ``img_path`` and
            ``instances[0].text``).
        num: how many crops, the first ``num``.
        batch_size: crops per forward pass.
        keep_tokens: also return all final tokens.
        seed: torch seed of the random initialisation (``checkpoint=None``).

    Returns:
        dict with ``cls`` (N, C) [cls] tokens, ``columns`` (N, w * C) patch tokens mean-pooled
        over the h grid rows, column after column, ``texts`` (N labels) and, with
        ``keep_tokens``, ``tokens`` (N, 1 + h * w, C), [cls] first; float32 arrays.

    Raises:
        FileNotFoundError: the annotation, an image or the checkpoint does not exist.
    """
    if not Path(ann_file).is_file():
        raise FileNotFoundError(f'annotation not found: {ann_file}')
    if num < 1 or batch_size < 1:
        raise ValueError(f'num and batch_size must be >= 1, got {num} and {batch_size}')
    samples, _ = list_samples(ann_file, num)
    if checkpoint is None:
        torch.manual_seed(seed)
    model = load_backbone(cfg, checkpoint)
    spec = input_spec(cfg)
    grid = tuple(model.patch_resolution)
    size = tuple(g * p for g, p in zip(grid, model.patch_size))
    if checkpoint is None:  # BN statistics of real crops, as fine-tuning would see them
        calibrate_batchnorm(model, (preprocess([load_sample(s, size)[0] for s in
                                                samples[i:i + batch_size]], spec)
                                    for i in range(0, min(len(samples), 512), batch_size)))
    cls, columns, tokens = [], [], []
    with torch.no_grad():
        for start in range(0, len(samples), batch_size):
            images = [load_sample(s, size)[0] for s in samples[start:start + batch_size]]
            out = model.encode_image(preprocess(images, spec))  # (B, 1 + h*w, C)
            b, _, c = out.shape
            cls.append(out[:, 0].numpy())
            patches = out[:, 1:].reshape(b, grid[0], grid[1], c)
            columns.append(patches.mean(1).reshape(b, grid[1] * c).numpy())
            if keep_tokens:
                tokens.append(out.numpy())
    result = dict(cls=np.concatenate(cls), columns=np.concatenate(columns),
                  texts=[s['text'] for s in samples])
    if keep_tokens:
        result['tokens'] = np.concatenate(tokens)
    return result


# ----------------------------------------------------------------------------- probe

def ridge_probe(train_x: np.ndarray, train_y: Sequence[int], test_x: np.ndarray,
                test_y: Sequence[int], num_classes: int, lam: Optional[float] = None) -> np.ndarray:
    """Linear probe: ridge regression onto one-hot targets, argmax as the prediction.

    Features are standardised with the train mean and std (constant features stay 0); the
    bias is unpenalised (targets are centred with their train mean).

    Args:
        train_x: (n, d) train features.
        train_y: (n,) train classes in ``[0, num_classes)``.
        test_x: (m, d) test features.
        test_y: (m,) test classes in ``[0, num_classes)``.
        num_classes: number of classes.
        lam: ridge penalty; ``None``: ``RIDGE_LAM_PER_FEATURE * d`` (1e-2 per feature), a fixed
            rule (never chosen on test accuracy): light shrinkage next to the standardised
            features' mean eigenvalue ``n`` of ``X^T X``, enough to keep the solve well posed
            when ``d > n``.

    Returns:
        (m,) float 0/1 correctness of each test item.
    """
    # Ridge because it has a closed form: no learning rate or epochs to tune, deterministic.
    train_x = np.asarray(train_x, np.float64)
    test_x = np.asarray(test_x, np.float64)
    train_y = np.asarray(train_y, np.int64)
    test_y = np.asarray(test_y, np.int64)
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f'features must be (n, d) and (m, d), got {train_x.shape} and '
                         f'{test_x.shape}')
    if len(train_y) != len(train_x) or len(test_y) != len(test_x):
        raise ValueError(f'{len(train_x)} train / {len(test_x)} test features but '
                         f'{len(train_y)} / {len(test_y)} labels')
    if not len(train_x) or not len(test_x):
        raise ValueError('ridge_probe: no train or no test items')
    for name, y in (('train_y', train_y), ('test_y', test_y)):
        if y.min() < 0 or y.max() >= num_classes:
            raise ValueError(f'{name} has classes outside [0, {num_classes})')
    n, d = train_x.shape
    lam = RIDGE_LAM_PER_FEATURE * d if lam is None else float(lam)
    mean, std = train_x.mean(0), train_x.std(0)
    std[std < 1e-12] = 1.
    x = (train_x - mean) / std
    onehot = np.eye(num_classes)[train_y]
    bias = onehot.mean(0)
    if n < d:  # the dual form solves an n x n system instead of d x d: same weights
        weights = x.T @ np.linalg.solve(x @ x.T + lam * np.eye(n), onehot - bias)
    else:
        weights = np.linalg.solve(x.T @ x + lam * np.eye(d), x.T @ (onehot - bias))
    scores = ((test_x - mean) / std) @ weights + bias
    return (scores.argmax(1) == test_y).astype(np.float64)


# ----------------------------------------------------------------------------- collapse

def effective_rank(matrix: np.ndarray, scale: Optional[float] = None) -> float:
    """``exp`` of the entropy of the normalised singular values (Roy & Vetterli, 2007).

    Args:
        matrix: (N, C).
        scale: the entries' magnitude before any centring (default: the largest entry of
            ``matrix``); singular values below ``1e-9 * scale * sqrt(N * C)`` are rounding
            noise and dropped, and a (numerically) zero matrix gets the measure's floor, 1.
    """
    matrix = np.asarray(matrix, np.float64)
    scale = np.abs(matrix).max(initial=0.) if scale is None else float(scale)
    s = np.linalg.svd(matrix, compute_uv=False)
    s = s[s > 1e-9 * max(scale, 1e-30) * np.sqrt(matrix.size)]
    if not len(s):
        return 1.
    p = s / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def collapse_stats(tokens: np.ndarray) -> Dict[str, float]:
    """How much an encoder's tokens vary across images: a collapse check.

    Alignment losses (one view's tokens regressed onto another's, as in LMIM's and MNSP's
    targets) without a stop-gradient or a frozen target can reach their minimum with a
    constant encoder: every image gives the same tokens. That shows as a per-dimension std
    over the batch near 0 and an effective rank of the [cls] tokens near 1. No normalisation
    is applied first, so the std is in the tokens' own units (after the final LayerNorm).

    Args:
        tokens: (N, 1 + L, C) final tokens of N images, [cls] first.

    Returns:
        dict with ``cls_std`` (mean over the C dimensions of the std over the N images of
        [cls]), ``patch_std`` (the same over the L positions and C dimensions of the patch
        tokens), ``cls_effective_rank`` (:func:`effective_rank` of the centred (N, C) [cls]
        matrix, between 1 and min(N, C)), ``patch_std_within`` (the std over the L
        positions of one image, averaged over images and dimensions: near 0, every patch
        token of a crop says the same, and a per-column reader such as CTC has nothing to
        tell its columns apart by), ``target_image_share`` and ``num_images``.
        ``target_image_share``: of the variance of the layer-normalised patch tokens (the
        targets this encoder gives as a :class:`FrozenTeacher`), the share that changes
        from image to image at a fixed position; near 0, the targets are a constant per
        position that a student can predict without looking at the image.
    """
    tokens = np.asarray(tokens, np.float64)
    if tokens.ndim != 3 or tokens.shape[1] < 2 or tokens.shape[0] < 2:
        raise ValueError(f'tokens must be (N >= 2, 1 + L >= 2, C), got {tokens.shape}')
    cls, patches = tokens[:, 0], tokens[:, 1:]
    normed = (patches - patches.mean(-1, keepdims=True)) / np.sqrt(
        patches.var(-1, keepdims=True) + 1e-6)  # FrozenTeacher's layer_norm, no affine
    total = normed.reshape(-1, normed.shape[-1]).var(0).mean()
    return dict(cls_std=float(cls.std(0).mean()), patch_std=float(patches.std(0).mean()),
                cls_effective_rank=effective_rank(cls - cls.mean(0), np.abs(cls).max()),
                patch_std_within=float(patches.std(1).mean()),
                target_image_share=float(normed.var(0).mean() / total) if total > 0 else 0.0,
                num_images=int(tokens.shape[0]))


# ----------------------------------------------------------------------------- both

def first_char_class(text: str) -> int:
    """Class of the label's lower-cased first character in :data:`FIRST_CHARS`, or -1."""
    return FIRST_CHARS.find(text[0].lower()) if text else -1


def length_class(text: str) -> int:
    """Class of the label's length clipped to [MIN_LENGTH, MAX_LENGTH], or -1 if empty."""
    return min(max(len(text), MIN_LENGTH), MAX_LENGTH) - MIN_LENGTH if text else -1


def _probe_task(name: str, train_x, train_y: List[int], test_x, test_y: List[int],
                num_classes: int, seed: int, anns) -> Dict:
    """One probe over the items whose class is known (>= 0), with its interval and chance."""
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    keep_train, keep_test = train_y >= 0, test_y >= 0
    for keep, ann in zip((keep_train, keep_test), anns):
        if not keep.any():
            raise ValueError(f'annotation {ann}: no crop has a label the {name} probe can use '
                             f'(empty texts? the probes need labeled crops)')
    correct = ridge_probe(train_x[keep_train], train_y[keep_train], test_x[keep_test],
                          test_y[keep_test], num_classes)
    majority = np.bincount(train_y[keep_train], minlength=num_classes).argmax()
    interval = bootstrap_mean(correct, seed=seed)
    return dict(value=interval.value, low=interval.low, high=interval.high,
                n=int(keep_test.sum()), chance=float(np.mean(test_y[keep_test] == majority)))


def probe_encoder(cfg, checkpoint: Optional[str], train_ann, test_ann, num_train: int,
                  num_test: int, seed: int = 0, batch_size: int = 64) -> Dict:
    """Linear probes and collapse statistics of a frozen encoder (JSON-serialisable).

    Args:
        cfg: an mmengine ``Config`` with ``model.backbone``.
        checkpoint: the encoder's checkpoint, or ``None`` for the random initialisation.
        train_ann: textrecog json whose first ``num_train`` crops fit the probes.
        test_ann: textrecog json whose first ``num_test`` crops score them.
        num_train: crops of ``train_ann``.
        num_test: crops of ``test_ann``.
        seed: seed of the random initialisation and of the bootstrap.
        batch_size: crops per forward pass.

    Returns:
        dict with ``first_char`` (36 classes a-z0-9; items with another first character are
        dropped) and ``length`` (word length clipped to 2..12: 11 classes), each
        ``dict(value, low, high, n, chance)``: test accuracy of a ridge probe on the column
        features with its 95% bootstrap interval over the n test items, and the accuracy of
        always answering the train majority class; ``collapse``: :func:`collapse_stats` of the
        test tokens; ``features``, ``num_train`` and ``num_test`` (crops read).
    """
    train = extract_features(cfg, checkpoint, train_ann, num_train, batch_size, seed=seed)
    test = extract_features(cfg, checkpoint, test_ann, num_test, batch_size, keep_tokens=True,
                            seed=seed)
    result = dict(features='columns', num_train=len(train['texts']),
                  num_test=len(test['texts']))
    for name, classes, num_classes in (('first_char', first_char_class, len(FIRST_CHARS)),
                                       ('length', length_class, MAX_LENGTH - MIN_LENGTH + 1)):
        result[name] = _probe_task(name, train['columns'], [classes(t) for t in train['texts']],
                                   test['columns'], [classes(t) for t in test['texts']],
                                   num_classes, seed, (train_ann, test_ann))
    result['collapse'] = collapse_stats(test['tokens'])
    return result
