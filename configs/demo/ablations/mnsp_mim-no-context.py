# NSP design variant (issue #24, docs/mnsp.md): full MNSP, but MIM's decoder does not see the
# coarse context (no cross-attention), so MIM cannot fill the masked tokens from the unmasked
# coarse views that NSP trains.
_base_ = ['../mnsp_pretrain.py']
model = dict(mim_context='none')
