"""Re-initialise named parts of a pretrained encoder: which part makes it a bad start?

:func:`reinit_encoder` takes a pretrained TextViT checkpoint and puts back the random
initialisation (the same init code as a scratch fine-tune, seeded) in the parts named:

* ``stem``: the patch embedding (the conv stem with its BatchNorms, or the linear patchify);
* ``stem_norms``: only the stem's BatchNorms (gains, biases and running statistics);
* ``pos``: the position table and the [cls] token;
* ``norms``: every LayerNorm (each block's two and the final one);
* ``block<i>``: block ``i`` (0-based) whole; ``last<k>``: the last ``k`` blocks;
* ``blocks``: every block (what is left pretrained is the stem, positions and final norm).

One more transform keeps every weight pretrained and changes only a scale:

* ``writes*<a>``: every block's writes into the residual stream (the attention output
  projection and the MLP's last linear, weights and biases) multiplied by ``a >= 0``
  (0: the blocks write nothing). With
  pre-norm blocks this shrinks what the blocks add relative to the stem's tokens, keeping
  what each block computes from its normalised input: does the pretrained stream's growth
  (its RMS, docs/study.md) keep the recogniser on the blank plateau, or what the blocks
  compute?

The result is a checkpoint that ``model.backbone.pretrained`` loads like any other, so the
fine-tuning recipe is the same as for the untouched encoder and for scratch.
"""
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import torch

from ..checkpoint.convert import load_encoder_state_dict
from .model_input import load_backbone


def part_keys(part: str, keys: Sequence[str], num_layers: int) -> List[str]:
    """The encoder state-dict keys (no prefix) that ``part`` names.

    Raises:
        ValueError: an unknown part, or a block index outside the encoder, naming it.
    """
    def blocks(indices):
        return [k for k in keys if (m := re.match(r'layers\.(\d+)\.', k))
                and int(m.group(1)) in indices]
    if part == 'stem':
        return [k for k in keys if k.startswith('patch_embed.')]
    if part == 'stem_norms':
        return [k for k in keys if k.startswith('patch_embed.') and re.search(
            r'\.(weight|bias|running_mean|running_var|num_batches_tracked)$', k)
            and _is_bn_key(k, keys)]
    if part == 'pos':
        return [k for k in keys if k in ('pos_embed', 'cls_token')]
    if part == 'norms':
        return [k for k in keys if re.match(r'(layers\.\d+\.)?ln[12]\.', k)]
    if part == 'blocks':
        return blocks(range(num_layers))
    m = re.fullmatch(r'(block|last)(\d+)', part)
    if m:
        n = int(m.group(2))
        if m.group(1) == 'block' and n < num_layers:
            return blocks({n})
        if m.group(1) == 'last' and 0 < n <= num_layers:
            return blocks(range(num_layers - n, num_layers))
        raise ValueError(f'reinit part {part!r}: the encoder has {num_layers} blocks')
    raise ValueError(f'unknown reinit part {part!r}; parts: stem, stem_norms, pos, norms, '
                     f'blocks, block<i>, last<k>, writes*<a>')


_WRITES = re.compile(r'layers\.\d+\.(attn\.proj|ffn\.layers\.1)\.(weight|bias)')


def write_scale(part: str) -> Optional[float]:
    """The factor ``a`` of a ``writes*<a>`` part, or None for a re-initialised part.

    Raises:
        ValueError: ``writes*`` with a factor that is not a number >= 0, naming it.
    """
    if not part.startswith('writes*'):
        return None
    try:
        scale = float(part[len('writes*'):])
    except ValueError:
        scale = -1.
    if not scale >= 0:
        raise ValueError(f'reinit part {part!r}: writes*<a> needs a factor a >= 0')
    return scale


def write_keys(keys: Sequence[str]) -> List[str]:
    """The keys of what every block writes into the stream (attention and MLP outputs)."""
    return [k for k in keys if _WRITES.fullmatch(k)]


def _is_bn_key(key: str, keys: Sequence[str]) -> bool:
    """A stem key belongs to a BatchNorm (its module has running statistics)."""
    module = key.rsplit('.', 1)[0]
    return f'{module}.running_var' in keys


def reinit_encoder(cfg, checkpoint: str, parts: Sequence[str], seed: int = 0
                   ) -> Dict[str, torch.Tensor]:
    """A pretrained encoder with ``parts`` put back to the random initialisation.

    Args:
        cfg: an mmengine ``Config`` whose ``model.backbone`` the checkpoint fits.
        checkpoint: the pretrained checkpoint (any format ``load_encoder_state_dict`` reads).
        parts: names from :func:`part_keys`, or ``writes*<a>`` (:func:`write_scale`).
        seed: torch seed of the random initialisation.

    Returns:
        The encoder state dict, keys prefixed ``backbone.`` as a recogniser checkpoint has.
    """
    pretrained = load_encoder_state_dict(checkpoint)
    torch.manual_seed(seed)
    model = load_backbone(cfg, None)
    fresh, num_layers = model.state_dict(), len(model.layers)
    missing = set(fresh) ^ set(pretrained)
    if missing:
        raise ValueError(f'checkpoint {checkpoint} does not fit model.backbone: keys '
                         f'{sorted(missing)[:5]} differ')
    out = dict(pretrained)
    for part in parts:
        scale = write_scale(part)
        if scale is not None:
            for key in write_keys(list(fresh)):
                out[key] = out[key] * scale
            continue
        for key in part_keys(part, list(fresh), num_layers):
            out[key] = fresh[key].clone()
    return {f'backbone.{k}': v for k, v in out.items()}


def save_reinit(cfg, checkpoint: str, parts: Sequence[str], out: Union[str, Path],
                seed: int = 0) -> Path:
    """:func:`reinit_encoder`, saved as ``{'state_dict', 'meta'}`` at ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    state = reinit_encoder(cfg, checkpoint, parts, seed)
    torch.save(dict(state_dict=state, meta=dict(source=str(checkpoint), reinit=list(parts),
                                                seed=seed)), out)
    return out
