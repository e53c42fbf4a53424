"""Frozen-encoder reading probe: does an encoder's output already say what the crop reads?

The linear probe of the self-supervised papers, for a reader. The encoder is frozen; a small
CTC head is trained on its final tokens of labeled crops and scored by word accuracy (WAICS)
on other crops. Two heads:

* ``linear``: one linear map per column. The ``h`` tokens of a grid column are concatenated
  (``h * C`` features, standardised with the training crops' mean and std) and mapped to the
  character classes + blank: ``logits_t = W [x_{1,t}; ...; x_{h,t}] + b``.
* ``block``: one pre-LN transformer layer (``C``-d, ``C // 32`` heads, FFN ``4C``) over the
  standardised (1 + h*w) tokens, then LayerNorm, the mean over each column's rows and a
  linear map, as the demo recogniser's ``TokenCTCDecoder`` reads its encoder.

Loss: ``CTC(log_softmax(logits_{1..w}), label)`` with the blank as the last class. Decoding:
best path (argmax per column, repeats merged, blanks dropped). A crop is read when the
decoded string equals its lower-cased, alphanumeric-only label (WAICS).

Besides WAICS, the probe reports each test crop's held-out CTC loss per character,
``CTC(log_softmax(logits), label) / len(label)`` (nats; crops whose label CTC cannot fit are
left out): a continuous score that still orders the encoders when every head reads (almost)
no word, as at the demo budget.

Every encoder gets the same head, steps, batch, learning rate and seed (:data:`HEADS`, a
fixed recipe, never chosen per encoder), so the probe compares what the encoders hold, not
how well a recipe suits them. The features are computed once per encoder (eval mode) and
the head trains on them in memory: seconds for ``linear``, about a minute for ``block``.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..evaluation.bootstrap import bootstrap_mean
from .encoder_probe import extract_features

CHARSET = '0123456789abcdefghijklmnopqrstuvwxyz'  # the demo's 36 classes; blank = 36
# The fixed recipe of each head: steps x batch on the cached features, AdamW with a 5%
# warm-up then cosine. Set on a random-weight encoder and a toy task (tests) so that the
# training loss has flattened by the last step; the same for every encoder.
HEADS = {'linear': dict(steps=1500, batch=256, lr=3e-3, weight_decay=1e-4),
         'block': dict(steps=1000, batch=64, lr=2e-3, weight_decay=1e-2)}


def normalise_label(text: str) -> str:
    """The label as WAICS compares it: lower case, letters and digits only."""
    return ''.join(c for c in str(text).lower() if c in CHARSET)


def encode_label(text: str) -> List[int]:
    return [CHARSET.index(c) for c in normalise_label(text)]


def ctc_fits(label: Sequence[int], columns: int) -> bool:
    """CTC needs a column per character plus one blank between repeated characters."""
    repeats = sum(a == b for a, b in zip(label, label[1:]))
    return 0 < len(label) and len(label) + repeats <= columns


def greedy_decode(logits: Tensor) -> List[str]:
    """Best-path CTC decoding of (N, w, classes) logits (blank = the last class).

    Written here because MMOCR's ``CTCPostProcessor`` works on data samples and a
    ``Dictionary``; the probe has neither, only logits.
    """
    blank = logits.shape[-1] - 1
    out = []
    for row in logits.argmax(-1).tolist():
        chars, prev = [], blank
        for k in row:
            if k != prev and k != blank:
                chars.append(CHARSET[k])
            prev = k
        out.append(''.join(chars))
    return out


class ProbeHead(nn.Module):
    """A CTC head on frozen tokens (see the module docstring).

    Args:
        kind: ``'linear'`` or ``'block'``.
        embed_dims: token width C.
        grid: (h, w) token grid; the last ``h * w`` tokens are the grid, [cls] first.
        mean, std: (C,) per-dimension statistics of the training tokens.

    Shapes:
        forward: (N, 1 + h*w, C) tokens -> (N, w, len(CHARSET) + 1) logits.
    """

    def __init__(self, kind: str, embed_dims: int, grid: Tuple[int, int], mean: Tensor,
                 std: Tensor):
        super().__init__()
        if kind not in HEADS:
            raise ValueError(f'probe head kind must be one of {sorted(HEADS)}, got {kind!r}')
        self.kind, self.grid = kind, tuple(grid)
        self.register_buffer('mean', mean.float())
        self.register_buffer('std', std.float().clamp_min(1e-6))
        h, _ = self.grid
        classes = len(CHARSET) + 1
        if kind == 'linear':
            self.classifier = nn.Linear(h * embed_dims, classes)
        else:
            self.block = nn.TransformerEncoderLayer(
                embed_dims, max(1, embed_dims // 32), 4 * embed_dims, dropout=0.,
                activation='gelu', batch_first=True, norm_first=True)
            self.norm = nn.LayerNorm(embed_dims)
            self.classifier = nn.Linear(embed_dims, classes)

    def forward(self, tokens: Tensor) -> Tensor:
        h, w = self.grid
        n, _, c = tokens.shape
        x = (tokens - self.mean) / self.std
        if self.kind == 'block':
            x = self.norm(self.block(x))
        grid = x[:, -h * w:].reshape(n, h, w, c)
        if self.kind == 'linear':
            return self.classifier(grid.permute(0, 2, 1, 3).reshape(n, w, h * c))
        return self.classifier(grid.mean(1))


def ctc(logits: Tensor, labels: Sequence[List[int]], reduction: str = 'mean') -> Tensor:
    """CTC of (B, w, classes) logits against B encoded labels, the blank the last class
    (``'none'``: (B,) per crop, summed over its characters)."""
    lengths = torch.tensor([len(lab) for lab in labels])
    return F.ctc_loss(logits.log_softmax(-1).transpose(0, 1),
                      torch.tensor([c for lab in labels for c in lab]),
                      torch.full((len(labels), ), logits.shape[1], dtype=torch.long), lengths,
                      blank=len(CHARSET), reduction=reduction, zero_infinity=True)


def train_head(kind: str, tokens: np.ndarray, texts: Sequence[str], grid: Tuple[int, int],
               seed: int = 0, steps: Optional[int] = None) -> Tuple[ProbeHead, List[float]]:
    """Fit a :class:`ProbeHead` on frozen tokens with CTC, by the fixed recipe of ``kind``.

    Args:
        kind: a :data:`HEADS` key.
        tokens: (N, 1 + h*w, C) frozen final tokens of the training crops, [cls] first.
        texts: their N labels; crops whose label CTC cannot fit in ``w`` columns are left out.
        grid: (h, w).
        seed: seed of the head's initialisation and batch order.
        steps: override the recipe's steps (tests).

    Returns:
        ``(head in eval mode, the training loss of every 50th step)``.

    Raises:
        ValueError: no training crop has a label that fits.
    """
    recipe = dict(HEADS[kind], **({'steps': steps} if steps else {}))
    labels = [encode_label(t) for t in texts]
    keep = [i for i, lab in enumerate(labels) if ctc_fits(lab, grid[1])]
    if not keep:
        raise ValueError(f'reading probe: none of the {len(texts)} training labels fits CTC '
                         f'on {grid[1]} columns')
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(tokens[keep])).float()
    labels = [labels[i] for i in keep]
    flat = x.reshape(-1, x.shape[-1])
    head = ProbeHead(kind, x.shape[-1], grid, flat.mean(0), flat.std(0))
    opt = torch.optim.AdamW(head.parameters(), lr=recipe['lr'],
                            weight_decay=recipe['weight_decay'])
    warm = max(1, recipe['steps'] // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1., (s + 1) / warm) * 0.5 * (
        1 + math.cos(math.pi * min(1., s / recipe['steps']))))
    losses = []
    head.train()
    for step in range(recipe['steps']):
        idx = torch.randint(len(x), (min(recipe['batch'], len(x)), ), generator=gen)
        loss = ctc(head(x[idx]), [labels[i] for i in idx.tolist()])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == recipe['steps'] - 1:
            losses.append(float(loss.detach()))
    return head.eval(), losses


def read_tokens(head: ProbeHead, tokens: np.ndarray, batch: int = 512) -> List[str]:
    """The head's best-path readings of (N, 1 + h*w, C) tokens."""
    out = []
    with torch.no_grad():
        for start in range(0, len(tokens), batch):
            out += greedy_decode(head(torch.from_numpy(tokens[start:start + batch]).float()))
    return out


def crop_losses(head: ProbeHead, tokens: np.ndarray, texts: Sequence[str],
                batch: int = 512) -> np.ndarray:
    """(N,) held-out CTC loss per character of each crop; NaN where the label cannot fit."""
    labels = [encode_label(t) for t in texts]
    out = np.full(len(labels), np.nan)
    fits = [i for i, lab in enumerate(labels) if ctc_fits(lab, head.grid[1])]
    with torch.no_grad():
        for start in range(0, len(fits), batch):
            idx = fits[start:start + batch]
            loss = ctc(head(torch.from_numpy(tokens[idx]).float()), [labels[i] for i in idx],
                       reduction='none')
            out[idx] = loss.numpy() / [len(labels[i]) for i in idx]
    return out


def waics(predictions: Sequence[str], texts: Sequence[str]) -> np.ndarray:
    """(N,) 0/1: the prediction equals the label, ignoring case and symbols."""
    return np.array([float(normalise_label(p) == normalise_label(t))
                     for p, t in zip(predictions, texts)])


def reading_probe(cfg, checkpoint: Optional[str], train_ann, num_train: int,
                  test_anns: Dict[str, str], num_test: int,
                  exclude_texts: Optional[set] = None, kinds: Sequence[str] = ('linear',
                                                                                'block'),
                  seed: int = 0, batch_size: int = 64) -> Dict:
    """Train the probe heads on one frozen encoder and read the test crops.

    Args:
        cfg: an mmengine ``Config`` with ``model.backbone`` (pretraining or fine-tuning).
        checkpoint: the encoder's checkpoint, or ``None`` for the random initialisation
            (seeded with ``seed``).
        train_ann: textrecog json whose first ``num_train`` crops train the heads.
        num_train: training crops.
        test_anns: test-set name -> textrecog json; the first ``num_test`` crops of each.
        num_test: crops per test set.
        exclude_texts: labels (normalised or not) whose crops are not scored: the training
            vocabulary, so that only out-of-vocabulary crops count. None scores every crop.
        kinds: which heads.
        seed: seed of the random encoder, the heads and the bootstrap.
        batch_size: crops per encoder forward pass.

    Returns:
        JSON-serialisable dict: ``kinds`` -> ``dict(value, low, high, n, sets, loss_first,
        loss_last, losses)`` with the mean WAICS over the test sets and its 95% bootstrap
        interval (crops resampled within each set), per set ``dict(value, n)``, and
        ``correct`` -> per set the 0/1 list of the scored crops and ``loss`` their held-out
        CTC loss per character (None where the label cannot fit; both for paired
        differences), ``heldout_loss`` its mean over the fitting crops with a 95%
        bootstrap interval; plus ``num_train``.
    """
    train = extract_features(cfg, checkpoint, train_ann, num_train, batch_size,
                             keep_tokens=True, seed=seed)
    grid = _grid_of(cfg, train['tokens'].shape[1] - 1)
    excluded = {normalise_label(t) for t in exclude_texts or ()}
    tests = {}
    for name, ann in test_anns.items():
        feats = extract_features(cfg, checkpoint, ann, num_test, batch_size, keep_tokens=True,
                                 seed=seed)
        keep = [i for i, t in enumerate(feats['texts']) if normalise_label(t) not in excluded]
        tests[name] = (feats['tokens'][keep], [feats['texts'][i] for i in keep])
    result = dict(num_train=len(train['texts']), grid=list(grid))
    for kind in kinds:
        head, losses = train_head(kind, train['tokens'], train['texts'], grid, seed)
        correct, strata, sets, loss, loss_strata = [], [], {}, [], []
        for name, (tokens, texts) in tests.items():
            c = waics(read_tokens(head, tokens), texts) if len(texts) else np.zeros(0)
            lo = crop_losses(head, tokens, texts) if len(texts) else np.zeros(0)
            fit = lo[~np.isnan(lo)]
            sets[name] = dict(value=float(c.mean()) if len(c) else None, n=len(c),
                              correct=c.astype(int).tolist(),
                              loss=[None if np.isnan(v) else float(v) for v in lo])
            correct.append(c)
            strata += [name] * len(c)
            loss.append(fit)
            loss_strata += [name] * len(fit)
        correct = np.concatenate(correct)
        if not len(correct):
            raise ValueError(f'reading probe: no test crop left to score in {list(test_anns)} '
                             f'(all in exclude_texts?)')
        ci = bootstrap_mean(correct, strata=strata, seed=seed)
        held = bootstrap_mean(np.concatenate(loss), strata=loss_strata, seed=seed)
        result[kind] = dict(value=ci.value, low=ci.low, high=ci.high, n=int(len(correct)),
                            sets=sets, loss_first=losses[0], loss_last=losses[-1],
                            losses=losses, heldout_loss=dict(value=held.value, low=held.low,
                                                             high=held.high))
    return result


def _grid_of(cfg, num_patches: int) -> Tuple[int, int]:
    """The (h, w) token grid of the config's backbone, checked against the token count."""
    from ..models.utils.pos_embed import grid_of
    bb = cfg.model.backbone
    patch = bb.get('patch_size', 4)
    patch = tuple(patch) if isinstance(patch, (list, tuple)) else (patch, patch)
    grid = grid_of(tuple(bb.get('img_size', (32, 128))), patch)
    if grid[0] * grid[1] != num_patches:
        raise ValueError(f'model.backbone: a {grid} grid but the encoder gave {num_patches} '
                         'patch tokens')
    return tuple(grid)
