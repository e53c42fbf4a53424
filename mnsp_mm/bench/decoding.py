"""Greedy decoding of the MAERec recogniser: MMOCR's full-prefix recomputation, our
key/value cache, and the cache with early exit, each timed on the same encoder features."""
import contextlib
import json
from pathlib import Path

import torch

from .device import autocast, timer


def longest_label(data: str, batch: int) -> int:
    """Characters of the longest label among the first ``batch`` synthetic crops."""
    labels = json.loads(Path(data, 'textrecog_train.json').read_text())['data_list'][:batch]
    return max(len(d['instances'][0]['text']) for d in labels)


@contextlib.contextmanager
def end_after(decoder, step: int):
    """Make the decoder's classifier emit the end token from greedy step ``step`` on.

    Random weights never end a word; this stands in for a trained decoder reading words of
    at most ``step`` characters, so early exit is timed on the code path it really takes.
    """
    calls = [0]

    def hook(module, inputs, output):
        calls[0] += 1
        if calls[0] <= step:
            return output
        output = output.clone()
        output[..., decoder.dictionary.end_idx] = output.max() + 1
        return output
    handle = decoder.classifier.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def decode(decoder, feat, data, end=None):
    """One greedy decode; with ``end``, the end token is forced from step ``end`` on."""
    with end_after(decoder, end) if end is not None else contextlib.nullcontext():
        return decoder.forward_test(feat, None, data)


def decoding_modes(longest: int):
    """``(name, cache_kv, end step or None)`` of each timed decoding mode."""
    return [('full recompute (MMOCR)', False, None), ('kv cache', True, None),
            (f'kv cache + early exit (words <= {longest} chars)', True, longest)]


def bench_decoding(model, batch: int, repeats: int, longest: int, device: str, dtype) -> dict:
    """Greedy decoding latency / images/s per mode, the encoder timed once beside it."""
    from mmocr.structures import TextRecogDataSample
    model.to(device).eval()
    decoder = model.decoder
    images = torch.randn(batch, 3, *model.backbone.img_size, device=device)
    data = [TextRecogDataSample(metainfo=dict(valid_ratio=1.0)) for _ in range(batch)]
    out = dict(batch=batch, max_seq_len=decoder.max_seq_len, rows=[])
    preds = {}
    with torch.no_grad(), autocast(device, dtype):
        model.backbone(images[:2])
        start = timer(device)
        feat = model.backbone(images)
        out['encoder_s'] = timer(device) - start
        for name, cache, end in decoding_modes(longest):
            decoder.cache_kv, decoder.early_exit = cache, end is not None
            decode(decoder, feat[:2], data[:2], end)  # warm-up
            start = timer(device)
            for _ in range(repeats):
                preds[name] = decode(decoder, feat, data, end).argmax(-1)
            latency = (timer(device) - start) / repeats
            total = latency + out['encoder_s']
            out['rows'].append(dict(mode=name, steps=end + 1 if end else decoder.max_seq_len,
                                    decoder_s=latency, latency_s=total,
                                    images_per_s=batch / total))
    full, cached = (preds[name] for name, _, _ in decoding_modes(longest)[:2])
    out['same_predictions'] = bool(torch.equal(full, cached))
    out['speedup'] = out['rows'][0]['decoder_s'] / out['rows'][1]['decoder_s']
    decoder.cache_kv, decoder.early_exit = True, True
    return out
