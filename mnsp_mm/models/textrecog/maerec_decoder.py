"""MAERec's recognition decoder: MMOCR's NRTR Transformer decoder attending to ViT tokens."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmocr.models.textrecog.decoders import NRTRDecoder
from mmocr.structures import TextRecogDataSample
from torch import Tensor

from ...registry import register_model

PRE_NORM = ('norm', 'self_attn', 'norm', 'enc_dec_attn', 'norm', 'ffn')


@register_model(scopes=('mmocr', ), aliases=('MAERecDecoder', ))
class TextMAERecDecoder(NRTRDecoder):
    """NRTR decoder fed with the backbone's tokens (MAERec has no separate encoder).

    MMOCR's ``NRTRDecoder`` already is MAERec's decoder (same layers and parameter names:
    ``trg_word_emb``, ``layer_stack.N``, ``layer_norm``, ``classifier``); it only reads the
    encoder output ``out_enc``. With no encoder in the recognizer, ``out_enc`` is None and
    the backbone features ``feat`` (B, 1 + h*w, d_model) are attended instead.

    Greedy decoding caches keys and values: the image's cross-attention keys/values are
    projected once, and each step runs only the newest token through the layers (MMOCR's
    decoder recomputes the whole prefix at every step). Predictions are the same.

    Registered as ``TextMAERecDecoder`` (``MAERecDecoder`` too, unless MMOCR owns that name,
    see :mod:`mnsp_mm.registry`).

    Args:
        cache_kv: decode with cached keys/values (``False``: MMOCR's full recomputation).
        early_exit: stop once every sequence of the batch has produced the end token; the
            remaining steps are filled with the end token (what the postprocessor stops at).
        Others: as :class:`mmocr.models.textrecog.decoders.NRTRDecoder`. The MAERec-S setting
        is ``n_layers=6, d_embedding=384, d_model=384, n_head=8, d_k=48, d_v=48,
        d_inner=1536``.
    """

    def __init__(self, *args, cache_kv: bool = True, early_exit: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.cache_kv, self.early_exit = cache_kv, early_exit

    def forward_train(self, feat: Optional[Tensor] = None, out_enc: Optional[Tensor] = None,
                      data_samples: Sequence[TextRecogDataSample] = None) -> Tensor:
        """Teacher-forced logits (B, T, num_classes)."""
        return super().forward_train(feat, feat if out_enc is None else out_enc, data_samples)

    def forward_test(self, feat: Optional[Tensor] = None, out_enc: Optional[Tensor] = None,
                     data_samples: Sequence[TextRecogDataSample] = None) -> Tensor:
        """Greedy decoding; character probabilities (B, max_seq_len, num_classes)."""
        src = feat if out_enc is None else out_enc
        if not self.cache_kv or self.training:
            return super().forward_test(feat, src, data_samples)
        return self._greedy_cached(src, data_samples)

    @staticmethod
    def _heads(attn, x: Tensor, dims: int) -> Tensor:
        """(B, L, n_head * dims) -> (B, n_head, L, dims)."""
        return x.view(x.shape[0], x.shape[1], attn.n_head, dims).transpose(1, 2)

    def _attend(self, attn, query: Tensor, keys: Tensor, values: Tensor,
                mask: Optional[Tensor]) -> Tensor:
        """One query step through an MMOCR ``MultiHeadAttention`` with given keys/values.

        The fused ``scaled_dot_product_attention`` computes MMOCR's
        ``softmax(q / sqrt(d_k) @ k^T, masked where mask == 0) @ v`` (eval: no dropout).

        Shapes:
            query (B, 1, d_model); keys (B, n_head, S, d_k); values (B, n_head, S, d_v);
            mask (B, 1, 1, S), nonzero where a key may be attended, or None.
        """
        q = self._heads(attn, attn.linear_q(query), attn.d_k)
        out = F.scaled_dot_product_attention(q, keys, values,
                                             attn_mask=None if mask is None else mask != 0)
        out = out.transpose(1, 2).reshape(query.shape[0], 1, attn.dim_v)
        return attn.proj_drop(attn.fc(out))

    def _greedy_cached(self, src: Tensor,
                       data_samples: Sequence[TextRecogDataSample]) -> Tensor:
        """Same computation as ``NRTRDecoder.forward_test`` with a key/value cache."""
        if any(layer.operation_order != PRE_NORM for layer in self.layer_stack):
            raise NotImplementedError('cached decoding assumes pre-norm decoder layers')
        N, steps = src.shape[0], self.max_seq_len
        src_mask = self._get_source_mask(src, [s.get('valid_ratio') for s in data_samples])
        enc_mask = None if src_mask is None else src_mask[:, None, None, :]
        cross: List[Tuple[Tensor, Tensor]] = [
            (self._heads(l.enc_attn, l.enc_attn.linear_k(src), l.enc_attn.d_k),
             self._heads(l.enc_attn, l.enc_attn.linear_v(src), l.enc_attn.d_v))
            for l in self.layer_stack]
        self_k = [src.new_zeros(N, l.self_attn.n_head, steps, l.self_attn.d_k)
                  for l in self.layer_stack]
        self_v = [src.new_zeros(N, l.self_attn.n_head, steps, l.self_attn.d_v)
                  for l in self.layer_stack]
        key_valid = torch.zeros(N, 1, 1, steps, dtype=torch.bool, device=src.device)
        tokens = torch.full((N, ), self.start_idx, dtype=torch.long, device=src.device)
        table = self.position_enc.position_table
        finished = torch.zeros(N, dtype=torch.bool, device=src.device)
        outputs = []
        for step in range(steps):
            x = self.trg_word_emb(tokens)[:, None] + table[:, step:step + 1]
            x = self.dropout(self.position_enc.dropout(x))
            key_valid[:, 0, 0, step] = tokens != self.padding_idx
            mask = key_valid[..., :step + 1]
            for i, layer in enumerate(self.layer_stack):
                sa, h = layer.self_attn, layer.norm1(x)
                self_k[i][:, :, step] = self._heads(sa, sa.linear_k(h), sa.d_k)[:, :, 0]
                self_v[i][:, :, step] = self._heads(sa, sa.linear_v(h), sa.d_v)[:, :, 0]
                x = x + self._attend(sa, h, self_k[i][:, :, :step + 1],
                                     self_v[i][:, :, :step + 1], mask)
                x = x + self._attend(layer.enc_attn, layer.norm2(x), *cross[i], enc_mask)
                x = x + layer.mlp(layer.norm3(x))
            logits = self.classifier(self.layer_norm(x))[:, 0]
            outputs.append(logits)
            tokens = logits.argmax(dim=-1)
            finished |= tokens == self.dictionary.end_idx
            if self.early_exit and bool(finished.all()):
                break
        probs = self.softmax(torch.stack(outputs, dim=1))
        if probs.shape[1] < steps:  # every sequence has ended: the rest is the end token
            rest = probs.new_zeros(N, steps - probs.shape[1], probs.shape[2])
            rest[..., self.dictionary.end_idx] = 1.
            probs = torch.cat([probs, rest], dim=1)
        return probs
