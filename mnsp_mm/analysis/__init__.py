"""Where does an encoder look? Analyses that sit above the models.

* :mod:`.attention` -- [cls] attention maps per scale, the share on glyph pixels, overlays;
* :mod:`.model_input` -- a config's encoder with a checkpoint, and its input normalisation;
* :mod:`.attention_maps` -- the maps of a checkpoint on a data set, drawn and measured (the
  work of ``tools/analysis/attention_maps.py`` and of the demo's attention stage);
* :mod:`.encoder_probe` -- label-free diagnostics of a frozen encoder: linear probes of the
  first character and the word length, and collapse statistics (the work of
  ``tools/analysis/probe_encoder.py``).
"""
from .attention import (chance_level, cls_attention, overlay, text_attention_fraction,
                        text_fraction_per_patch)
from .encoder_probe import collapse_stats, extract_features, probe_encoder, ridge_probe
from .model_input import InputSpec, backbone_config, input_spec, load_backbone, preprocess

__all__ = [
    'chance_level', 'cls_attention', 'overlay', 'text_attention_fraction',
    'text_fraction_per_patch', 'InputSpec', 'backbone_config', 'input_spec', 'load_backbone',
    'preprocess', 'collapse_stats', 'extract_features', 'probe_encoder', 'ridge_probe'
]
