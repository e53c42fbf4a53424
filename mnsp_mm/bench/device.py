"""The device, autocast, synchronised timers, peak memory and the matmul peak."""
import resource
import time

import torch


def device_and_dtype():
    """``('cuda', bf16 or fp16)`` on a GPU (the autocast dtype), else ``('cpu', None)``."""
    if not torch.cuda.is_available():
        return 'cpu', None
    return 'cuda', torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: str, dtype):
    """``torch.autocast`` with ``dtype``, a no-op when ``dtype`` is ``None`` (CPU, fp32)."""
    return torch.autocast(device, dtype=dtype, enabled=dtype is not None)


def timer(device: str) -> float:
    """``time.perf_counter`` after the device has finished its queued work."""
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter()


def peak_mb(device: str) -> float:
    """Peak memory: CUDA allocations on a GPU, the process's peak RSS on a CPU."""
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(device: str, dtype) -> float:
    """Best of several timed square matmuls, 2*n^3 FLOP each (fp32 on CPU)."""
    n = 2048 if device == 'cpu' else 8192
    a, b = (torch.randn(n, n, device=device, dtype=dtype or torch.float32) for _ in range(2))
    best = float('inf')
    for _ in range(8):
        start = timer(device)
        a @ b
        best = min(best, timer(device) - start)
    return 2 * n**3 / best / 1e9
