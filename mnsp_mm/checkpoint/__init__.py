"""Checkpoints: safe (weights-only) loading for every mmengine scheme, official <-> ours key
conversion, and the strict fit check before evaluation.

The bottom layer of the package next to :mod:`mnsp_mm.registry`: the models, the engine hooks
and the tools import it; it imports nothing of mnsp_mm.
"""
