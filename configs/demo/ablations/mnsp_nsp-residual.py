# NSP design variant (issue #24, docs/mnsp.md): full MNSP, NSP predicts the residual the finer
# grid adds over the upsampled coarser one (T_{k+1} - up(T_k)) instead of T_{k+1}, so copying
# the upsampled coarse features no longer solves it.
_base_ = ['../mnsp_pretrain.py']
model = dict(nsp_target='residual')
