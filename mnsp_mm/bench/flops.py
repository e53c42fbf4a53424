"""Multiply-adds by mmengine's ``FlopAnalyzer``: a pretraining loss and a greedy decode.

``GMAC``: mmengine counts one multiply-add as one "flop"; we print it as MAC, and
``GFLOP`` = 2 x GMAC, the convention of the matmul peak. Training FLOPs per image =
2 x (3 x forward MACs of the trained parts + 1 x the frozen teacher's forward MACs):
backward costs about twice the forward; the teacher has none.
"""
import math

import torch
from torch import nn

from .step import dummy_inputs, to_device, total_loss


def sdpa_macs(inputs, outputs) -> int:
    """FlopAnalyzer handle of ``aten::scaled_dot_product_attention`` (mmengine has none).

    q (..., L, E) @ k^T (..., E, S) and weights (..., L, S) @ v (..., S, Ev): L*S*(E + Ev)
    multiply-adds per batch-and-head element.
    """
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    return math.prod(q[:-2]) * q[-2] * k[-2] * (q[-1] + v[-1])


def count_macs(module: nn.Module, inputs: tuple):
    """``(total, by_module)`` multiply-adds of ``module(*inputs)`` by mmengine's FlopAnalyzer."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_macs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    return analyzer.total(), analyzer.by_module()


class _SummedLoss(nn.Module):
    """``forward(*views)`` = the algorithm's summed training loss (what the tracer needs)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *views):
        return total_loss(self.model.loss(list(views) if len(views) > 1 else views[0], []))


def pretrain_flops(model, device: str) -> dict:
    """Forward GMAC per image (teacher apart) and the training GFLOP estimate."""
    inputs = to_device(dummy_inputs(model, 1), device)
    inputs = tuple(inputs) if isinstance(inputs, list) else (inputs, )
    total, by_module = count_macs(_SummedLoss(model), inputs)
    teacher = by_module.get('model.target_generator', 0)
    return dict(forward_gmac=total / 1e9, teacher_gmac=teacher / 1e9,
                train_gflop=2 * (3 * (total - teacher) + teacher) / 1e9)


class _GreedyDecode(nn.Module):
    """``forward(feat)`` = the recogniser decoder's greedy decode of ``feat``."""

    def __init__(self, decoder: nn.Module, data_samples: list):
        super().__init__()
        self.decoder, self.data_samples = decoder, data_samples

    def forward(self, feat):
        return self.decoder.forward_test(feat, None, self.data_samples)


def recognizer_flops(model, device: str) -> dict:
    """GMAC per image of the encoder and of a full-length greedy decode, per decoding mode."""
    from mmocr.structures import TextRecogDataSample
    model.to(device).eval()
    image = torch.randn(1, 3, *model.backbone.img_size, device=device)
    encoder, _ = count_macs(model.backbone, (image, ))
    feat = model.backbone(image)
    decode = _GreedyDecode(model.decoder, [TextRecogDataSample(metainfo=dict(valid_ratio=1.0))])
    out = dict(encoder_gmac=encoder / 1e9)
    model.decoder.early_exit = False
    for key, cache in (('decoder_full_gmac', False), ('decoder_cached_gmac', True)):
        model.decoder.cache_kv = cache
        out[key] = count_macs(decode, (feat, ))[0] / 1e9
    model.decoder.cache_kv, model.decoder.early_exit = True, True
    return out
