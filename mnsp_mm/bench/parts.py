"""Per-part step breakdown, read from the profiler regions the algorithms mark in ``loss``.

Each algorithm wraps the parts of its own ``loss`` in ``torch.profiler.record_function``
(teacher, encoders, each decoder + loss term). One real training step runs under the
profiler; a part's forward time is its region, its backward time the sum of the autograd
nodes created inside the region (matched by the autograd sequence number), gradient
accumulation into the parameters counted with the part whose backward just ran. Nothing
is re-coded here, so the breakdown cannot drift from the model: an op that ``loss`` runs
outside every region shows up as its own row (``OUTSIDE``), and the tests require none.
On a GPU the regions time the host side (kernel launches) unless ``CUDA_LAUNCH_BLOCKING=1``.
"""
from typing import Dict, List

from torch.profiler import ProfilerActivity, profile, record_function

from .device import autocast, timer
from .step import total_loss

LOSS = 'benchmark: model.loss'
OUTSIDE = 'outside the marked parts'
OPTIMIZER = 'optimizer (AdamW)'
_BACKWARD = 'autograd::engine::evaluate_function: '


def _ancestors(event):
    """``event``, its parent, ..., up to the top-level event that holds it."""
    while event is not None:
        yield event
        event = event.cpu_parent


def profile_step(model, inputs, device: str, dtype) -> Dict:
    """One forward + backward of ``model.loss(inputs)`` under the profiler, split by part.

    Returns:
        ``parts``: ``{name: [forward s, backward s]}`` in the order the loss runs them;
        ``outside``: names of the ops ``loss`` runs outside every region (should be none).
    """
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with autocast(device, dtype):
            with record_function(LOSS):
                losses = model.loss(inputs, [])
            loss = total_loss(losses)
        loss.backward()
    events = prof.events()
    loss_event = next(e for e in events if e.name == LOSS)
    # by_seq: (thread, autograd sequence number) of a forward op -> its part
    parts, outside, by_seq = {}, [], {}
    for e in events:
        chain = list(_ancestors(e))
        if chain[-1].name.startswith(_BACKWARD):
            continue
        if loss_event not in chain:  # the benchmark's own work: summing the loss terms
            if e.sequence_nr >= 0:
                by_seq[(e.thread, e.sequence_nr)] = None
            continue
        if e is loss_event:
            continue
        top = chain[chain.index(loss_event) - 1]
        name = top.name if top.is_user_annotation else OUTSIDE
        if e is top:
            parts.setdefault(name, [0., 0.])[0] += e.time_range.elapsed_us() / 1e6
            if name == OUTSIDE:
                outside.append(e.name)
        if e.sequence_nr >= 0:
            by_seq[(e.thread, e.sequence_nr)] = name
    last = OUTSIDE
    for e in events:
        nested = e.cpu_parent is not None and e.cpu_parent.name.startswith(_BACKWARD)
        if not e.name.startswith(_BACKWARD) or nested:
            continue
        if not e.name.endswith('AccumulateGrad'):
            last = by_seq.get((e.fwd_thread, e.sequence_nr), OUTSIDE)
        if last is not None:
            parts.setdefault(last, [0., 0.])[1] += e.time_range.elapsed_us() / 1e6
    return dict(parts=parts, outside=outside)


def breakdown(model, opt, inputs, repeats: int, device: str, dtype) -> List[dict]:
    """Mean forward / backward seconds per part, and the optimiser step, over ``repeats``.

    Leaves no gradients behind (``opt.zero_grad(set_to_none=True)`` after each step).
    """
    rows: Dict[str, List[float]] = {}
    for _ in range(repeats):
        opt.zero_grad(set_to_none=True)
        for name, (fwd, bwd) in profile_step(model, inputs, device, dtype)['parts'].items():
            row = rows.setdefault(name, [0., 0.])
            row[0] += fwd / repeats
            row[1] += bwd / repeats
        start = timer(device)
        opt.step()
        rows.setdefault(OPTIMIZER, [0., 0.])[0] += (timer(device) - start) / repeats
        opt.zero_grad(set_to_none=True)
    return [dict(part=k, forward_s=f, backward_s=b) for k, (f, b) in rows.items()]


# the dense products of a step: linear layers, attention, convolutions, forward and backward
MATMUL_OPS = ('aten::mm', 'aten::addmm', 'aten::bmm', 'aten::baddbmm', 'aten::matmul_backward',
              'aten::_scaled_dot_product_flash_attention_for_cpu',
              'aten::_scaled_dot_product_flash_attention_for_cpu_backward',
              'aten::mkldnn_convolution', 'aten::convolution_backward')


def op_time_shares(model, inputs, device: str, dtype, top: int = 8) -> Dict:
    """Where one forward + backward spends its CPU time: dense products against the rest.

    Self CPU time per op name (the profiler's ``key_averages``), summed over the step.

    Returns:
        ``matmul_s`` (the ops of :data:`MATMUL_OPS`), ``other_s`` (every other op's self
        time: elementwise, norms, copies, indexing, autograd bookkeeping), ``ops`` (the
        ``top`` ops by self time: ``[name, seconds, calls]``).
    """
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with autocast(device, dtype):
            loss = total_loss(model.loss(inputs, []))
        loss.backward()
    model.zero_grad(set_to_none=True)
    rows = [(e.key, e.self_cpu_time_total / 1e6, e.count) for e in prof.key_averages()]
    matmul = sum(s for k, s, _ in rows if k in MATMUL_OPS)
    total = sum(s for _, s, _ in rows)
    return dict(matmul_s=matmul, other_s=total - matmul,
                ops=[list(r) for r in sorted(rows, key=lambda r: -r[1])[:top]])
