# NSP design variant (issue #24, docs/mnsp.md): full MNSP, the NSP queries are the NSP
# decoder's mask token + positions instead of the upsampled coarse features, so each finer
# token has to be read from the coarse context through cross-attention.
_base_ = ['../mnsp_pretrain.py']
model = dict(nsp_queries='mask')
