"""Convert official MAE / MAERec / LMIM weights (timm key names) to and from ours.

Official checkpoints are ``{'model': state_dict, 'args': argparse.Namespace, ...}`` with timm
ViT keys (``blocks.N.mlp.fc1``); LMIM prefixes its student with ``model_maeenc.`` and its
frozen teacher with ``model_maeenc_momentum.``, and keeps its decoder (``LMIMDecoder``
blocks in ``models_lmim.py``) at the top level (``decoder_embed``, ``decoder_blocks.N``,
...). Our :class:`~mnsp_mm.models.TextViT` uses mmpretrain's names
(``layers.N.ffn.layers.0.0``), our :class:`~mnsp_mm.models.GuidedDecoder` its own
(``blocks.N.cross_attn``). The stored position tables (the encoder's ``pos_embed``, the
decoder's ``decoder_pos_embed``) are kept as they are: the official tables use a 16x16
sin-cos layout for the 8x32 grid, and the weights were trained with exactly that table.
"""
import re
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Tuple, Union

from torch import Tensor

from .safe_load import load_checkpoint_file

# (timm, ours) key templates of one encoder; {n} is a block index, {p} weight or bias.
_KEY_PAIRS = [
    ('cls_token', 'cls_token'),
    ('pos_embed', 'pos_embed'),
    ('patch_embed.proj.{p}', 'patch_embed.projection.{p}'),
    ('blocks.{n}.norm1.{p}', 'layers.{n}.ln1.{p}'),
    ('blocks.{n}.attn.qkv.{p}', 'layers.{n}.attn.qkv.{p}'),
    ('blocks.{n}.attn.proj.{p}', 'layers.{n}.attn.proj.{p}'),
    ('blocks.{n}.norm2.{p}', 'layers.{n}.ln2.{p}'),
    ('blocks.{n}.mlp.fc1.{p}', 'layers.{n}.ffn.layers.0.0.{p}'),
    ('blocks.{n}.mlp.fc2.{p}', 'layers.{n}.ffn.layers.1.{p}'),
    ('norm.{p}', 'ln1.{p}'),
]

# (official LMIM, ours) key templates of the decoder (LMIMViT's decoder_* -> GuidedDecoder);
# {a} is an nn.MultiheadAttention parameter (in_proj_weight, in_proj_bias, out_proj.weight/bias).
_LMIM_DECODER_PAIRS = [
    ('decoder_embed.{p}', 'embed.{p}'),          # the masked branch's tokens
    ('decoder_embed2.{p}', 'context_embed.{p}'),  # the guidance branch's tokens
    ('mask_token', 'mask_token'),
    ('decoder_pos_embed', 'pos_embed'),
    ('decoder_blocks.{n}.self_attn.{a}', 'blocks.{n}.self_attn.{a}'),
    ('decoder_blocks.{n}.multihead_attn.{a}', 'blocks.{n}.cross_attn.{a}'),
    ('decoder_blocks.{n}.linear1.{p}', 'blocks.{n}.ffn.0.{p}'),
    ('decoder_blocks.{n}.linear2.{p}', 'blocks.{n}.ffn.3.{p}'),
    ('decoder_blocks.{n}.norm1.{p}', 'blocks.{n}.norm_self.{p}'),
    ('decoder_blocks.{n}.norm2.{p}', 'blocks.{n}.norm_cross.{p}'),
    ('decoder_blocks.{n}.norm3.{p}', 'blocks.{n}.norm_ffn.{p}'),
    ('decoder_norm.{p}', 'norm.{p}'),
    ('decoder_pred.{p}', 'pred.{p}'),
]


def _compile(template: str) -> 're.Pattern':
    pattern = re.escape(template).replace(r'\{n\}', r'(?P<n>\d+)')
    pattern = pattern.replace(r'\{a\}', r'(?P<a>in_proj_weight|in_proj_bias|out_proj\.weight|'
                              r'out_proj\.bias)')
    return re.compile('^' + pattern.replace(r'\{p\}', '(?P<p>weight|bias)') + '$')


_TO_OURS = [(_compile(timm), ours) for timm, ours in _KEY_PAIRS]
_TO_TIMM = [(_compile(ours), timm) for timm, ours in _KEY_PAIRS]
_LMIM_DECODER_TO_OURS = [(_compile(off), ours) for off, ours in _LMIM_DECODER_PAIRS]

# Where each official format keeps the encoder (key prefix inside the 'model' dict).
OFFICIAL_PREFIXES = {
    'mae': '',                           # MAE fork used by MAERec pretraining
    'maerec': 'backbone.',               # MMOCR dev-1.x MAERec recognizer
    'lmim': 'model_maeenc.',             # LMIM student
    'lmim_teacher': 'model_maeenc_momentum.',  # LMIM frozen MAERec teacher
}


def _rename(sd: Dict[str, Tensor], table) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    out, unused = OrderedDict(), []
    for key, value in sd.items():
        for pattern, template in table:
            match = pattern.match(key)
            if match:
                out[template.format(**match.groupdict())] = value
                break
        else:
            unused.append(key)
    return out, unused


def timm_to_textvit(state_dict: Dict[str, Tensor],
                    prefix: str = '') -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename a timm-style ViT encoder state dict to :class:`TextViT` keys.

    Args:
        state_dict: weights; only keys starting with ``prefix`` are considered.
        prefix: e.g. ``'model_maeenc.'`` for the LMIM student.

    Returns:
        ``(ours, unused)``: our state dict, and the keys under ``prefix`` that are not
        encoder weights (MAE decoder, ``mask_token``, heads), for the caller to report.
    """
    sub = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    return _rename(sub, _TO_OURS)


def textvit_to_timm(state_dict: Dict[str, Tensor],
                    prefix: str = '') -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Inverse of :func:`timm_to_textvit` (e.g. to hand our encoder to timm-based code)."""
    sub = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    return _rename(sub, _TO_TIMM)


def lmim_decoder_to_guided(model_sd: Dict[str, Tensor]
                           ) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename the official LMIM decoder (``models_lmim.LMIMViT``) to :class:`GuidedDecoder` keys.

    The blocks map one to one (post-LN SA -> CA -> FFN, ``norm1/2/3`` -> ``norm_self /
    norm_cross / norm_ffn``). ``decoder_pos_embed`` (1, 257, 512) becomes ``pos_embed`` as
    stored: its 16x16 layout for the 8x32 tokens is what the official weights were trained with.

    Args:
        model_sd: the official ``model`` state dict (student and teacher keys are skipped).

    Returns:
        ``(ours, unused)``: the decoder in our keys, and the top-level keys that are neither
        decoder nor encoder weights (to report).
    """
    top = {k: v for k, v in model_sd.items() if not k.startswith('model_maeenc')}
    return _rename(top, _LMIM_DECODER_TO_OURS)


def detect_format(model_sd: Dict[str, Tensor]) -> str:
    """Guess which official layout a ``model`` state dict has (see ``OFFICIAL_PREFIXES``)."""
    keys = list(model_sd)
    if any(k.startswith('model_maeenc.') for k in keys):
        return 'lmim'
    if any(k.startswith('backbone.blocks.') for k in keys):
        return 'maerec'
    if any(k.startswith('blocks.') for k in keys):
        return 'mae'
    raise ValueError('no timm-style ViT encoder found (expected keys like blocks.0.attn.qkv.weight, '
                     'backbone.blocks..., or model_maeenc.blocks...); first keys: '
                     f'{keys[:5]}')


def _model_state(ckpt: Dict) -> Dict[str, Tensor]:
    """The weights inside a loaded checkpoint: ``model`` (official), ``state_dict`` (mmengine)
    or the dict itself (a bare state dict)."""
    return ckpt.get('model', ckpt.get('state_dict', ckpt))


def _official_encoder(model_sd: Dict[str, Tensor], fmt: str, source: str
                      ) -> Tuple['OrderedDict[str, Tensor]', List[str], str]:
    """The encoder of an official ``model`` state dict in :class:`TextViT` keys."""
    if fmt == 'auto':
        fmt = detect_format(model_sd)
    if fmt not in OFFICIAL_PREFIXES:
        raise ValueError(f'unknown checkpoint format {fmt!r}; choose from {sorted(OFFICIAL_PREFIXES)}')
    ours, unused = timm_to_textvit(model_sd, OFFICIAL_PREFIXES[fmt])
    if 'cls_token' not in ours or not any(k.startswith('layers.') for k in ours):
        raise ValueError(f'{source}: no encoder weights under prefix {OFFICIAL_PREFIXES[fmt]!r} '
                         f'(format {fmt})')
    return ours, unused, fmt


def load_official_encoder(path: Union[str, Path], fmt: str = 'auto'
                          ) -> Tuple['OrderedDict[str, Tensor]', List[str], str]:
    """Read an official checkpoint file and return its encoder in :class:`TextViT` keys.

    Args:
        path: official ``.pth`` (``{'model': ...}``, ``{'state_dict': ...}`` or a bare dict).
        fmt: one of ``OFFICIAL_PREFIXES`` or ``'auto'``.

    Returns:
        ``(encoder_state_dict, unused_keys, fmt)``: ``unused_keys`` are the non-encoder keys
        under the format's prefix (MAE decoder, ``mask_token``, heads).
    """
    return _official_encoder(_model_state(load_checkpoint_file(path)), fmt, str(path))


def convert_official_checkpoint(path: Union[str, Path], fmt: str = 'auto',
                                prefix: str = 'backbone.', neck_prefix: str = 'neck.'
                                ) -> Tuple['OrderedDict[str, Tensor]', List[str], str]:
    """An official checkpoint as a state dict of our models (encoder under ``prefix``).

    For a MAERec *recogniser* (MMOCR dev-1.x, ``fmt='maerec'``) the ``decoder.*`` weights are
    kept as they are: our :class:`~mnsp_mm.models.MAERecDecoder` has the same parameter names,
    so the result loads into the MAERec-S recogniser with no missing or unexpected keys.

    For an LMIM checkpoint (``fmt='lmim'``) the student goes under ``prefix`` and the decoder,
    converted by :func:`lmim_decoder_to_guided`, under ``neck_prefix``: the result loads
    into our LMIM model (``load_from``) with only the teacher left to load
    (``fmt='lmim_teacher'``, or ``FrozenTeacher(checkpoint_format='lmim_teacher')``).

    Returns:
        ``(state_dict, left_out_keys, fmt)``.
    """
    model_sd = _model_state(load_checkpoint_file(path))
    enc, unused, fmt = _official_encoder(model_sd, fmt, str(path))
    out = OrderedDict((prefix + k, v) for k, v in enc.items())
    if fmt == 'maerec':
        out.update((k, v) for k, v in model_sd.items() if k.startswith('decoder.'))
    elif fmt == 'lmim':
        dec, other = lmim_decoder_to_guided(model_sd)
        if 'pred.weight' not in dec:
            raise ValueError(f'{path}: format lmim but no official decoder keys '
                             f'(decoder_embed, decoder_blocks.N, decoder_pred); '
                             f'use --format lmim_teacher for the teacher alone')
        out.update((neck_prefix + k, v) for k, v in dec.items())
        unused = unused + other
    return out, unused, fmt


def load_encoder_state_dict(path: Union[str, Path], prefix: str = 'backbone.',
                            fmt: str = 'auto') -> 'OrderedDict[str, Tensor]':
    """The encoder weights of any checkpoint we support, in :class:`TextViT` keys.

    Reads our own checkpoints (keys under ``prefix``, e.g. a MAE pretraining run) and the
    official formats (MAE fork, MAERec recogniser, LMIM student/teacher; ``fmt`` as in
    :func:`load_official_encoder`). The file is read once.
    """
    sd = _model_state(load_checkpoint_file(path))
    if fmt == 'auto' and any(k.startswith(prefix + 'layers.') for k in sd):
        return OrderedDict((k[len(prefix):], v) for k, v in sd.items() if k.startswith(prefix))
    return _official_encoder(sd, fmt, str(path))[0]
