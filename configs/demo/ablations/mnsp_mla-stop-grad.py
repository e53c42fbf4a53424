# NSP design variant (issue #24, docs/mnsp.md): full MNSP with a stop-gradient on the
# full-scale side of MLA: the full-scale [cls] (the one fine-tuned) is a fixed anchor, only
# the coarse [cls] move towards it.
_base_ = ['../mnsp_pretrain.py']
model = dict(mla_stop_grad='full')
