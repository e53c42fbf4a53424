"""Stop on a NaN/Inf loss before it reaches the weights."""
import logging
import math
from typing import Dict, List

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper

from ..registry import register_hook


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or Inf (raised before the optimizer step).

    Attributes:
        iteration (int): 1-based training iteration, as in the log lines.
        terms (dict): the offending loss terms and their values.
    """

    def __init__(self, iteration: int, terms: Dict[str, float]):
        self.iteration, self.terms = iteration, terms
        names = ', '.join(f'{k}={v}' for k, v in terms.items())
        super().__init__(f'non-finite loss at iteration {iteration}: {names}. The weights were '
                         f'not updated with it; resume from the last checkpoint with a lower '
                         f'lr, gradient clipping or AMP (see docs/robustness.md)')


def non_finite_terms(log_vars: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """The entries of ``log_vars`` that are not finite (one device sync for all of them)."""
    names = [k for k, v in log_vars.items() if isinstance(v, torch.Tensor)]
    if not names:
        return {}
    values = torch.stack([log_vars[k].detach().float().reshape(()) for k in names])
    if bool(torch.isfinite(values).all()):
        return {}
    bad = {k: v for k, v in zip(names, values.tolist()) if not math.isfinite(v)}
    if len(bad) > 1:  # 'loss' is the sum: name only the terms that caused it
        bad.pop('loss', None)
    return bad


@register_hook()
class NonFiniteLossHook(Hook):
    """Check every loss term for NaN/Inf between the forward pass and the optimizer step.

    The hook wraps the model's ``parse_losses`` (which both the plain model and mmengine's
    DDP wrapper call right before ``optim_wrapper.update_params``), so a bad loss raises
    :class:`NonFiniteLossError` naming the iteration and the term(s) before any gradient is
    applied: the weights are never poisoned.

    Under :class:`~mmengine.optim.AmpOptimWrapper` with ``amp_skip=True`` a non-finite loss is
    instead logged and left to the dynamic loss scaler, which skips that optimizer step and
    lowers the scale (the usual fp16 overflow case); ``max_amp_skips`` consecutive skips still
    raise, since the run then no longer learns.

    Args:
        amp_skip: let the AMP scaler skip non-finite steps instead of raising.
        max_amp_skips: consecutive AMP skips that still stop the run.
    """

    priority = 'VERY_HIGH'

    def __init__(self, amp_skip: bool = True, max_amp_skips: int = 20):
        self.amp_skip = amp_skip
        self.max_amp_skips = int(max_amp_skips)
        self.amp_skips = 0

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if getattr(model.parse_losses, '_mnsp_checked', False):
            return
        parse = model.parse_losses

        def checked_parse_losses(losses):
            loss, log_vars = parse(losses)
            self.check(runner, log_vars)
            return loss, log_vars

        checked_parse_losses._mnsp_checked = True
        model.parse_losses = checked_parse_losses

    def check(self, runner, log_vars: Dict[str, torch.Tensor]) -> List[str]:
        """Raise (or, under AMP, warn) when a loss term is not finite.

        Returns:
            The names of the non-finite terms (empty when all are finite).
        """
        bad = non_finite_terms(log_vars)
        if not bad:
            self.amp_skips = 0
            return []
        error = NonFiniteLossError(runner.iter + 1, bad)
        if self.amp_skip and isinstance(runner.optim_wrapper, AmpOptimWrapper):
            self.amp_skips += 1
            if self.amp_skips > self.max_amp_skips:
                raise NonFiniteLossError(runner.iter + 1, bad) from RuntimeError(
                    f'{self.amp_skips} consecutive AMP steps skipped (max_amp_skips='
                    f'{self.max_amp_skips})')
            print_log(f'{error.args[0].split(". ")[0]}; the AMP loss scaler skips this step '
                      f'({self.amp_skips} in a row)', logger='current', level=logging.WARNING)
            return list(bad)
        raise error
