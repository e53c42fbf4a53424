"""bf16 autocast on any device, a config switch: ``optim_wrapper=dict(type='BF16OptimWrapper')``.

mmengine's :class:`~mmengine.optim.AmpOptimWrapper` asserts a GPU (it builds a
``GradScaler``), yet bf16 has fp32's exponent range and needs no loss scaling, and
``torch.autocast`` runs it on a CPU. This wrapper is :class:`~mmengine.optim.OptimWrapper`
with the forward pass (data preprocessor + loss, what ``BaseModel.train_step`` runs inside
``optim_context``) under ``autocast(device, torch.bfloat16)``: matmuls, convolutions and
attention in bf16, reductions, norms and losses in fp32 (torch's autocast op lists). The
weights, their gradients and the optimiser state stay fp32, so checkpoints are unchanged
and resume with or without the switch. Whether it pays depends on the CPU (bf16 matmul
units: AVX512-BF16 / AMX) and the model width: ``make bench`` measures it
(docs/performance.md). Validation and test passes run in fp32.
"""
import contextlib

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from ..registry import register_optim_wrapper


@register_optim_wrapper()
class BF16OptimWrapper(OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` whose forward pass runs under bf16 autocast.

    Takes the same arguments (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    The device is that of the model's first parameter.
    """

    @contextlib.contextmanager
    def optim_context(self, model: torch.nn.Module):
        param = next(model.parameters(), None)
        device = 'cpu' if param is None else param.device.type
        with super().optim_context(model), autocast(device_type=device, dtype=torch.bfloat16):
            yield
