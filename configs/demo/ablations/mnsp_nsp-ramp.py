# NSP design variant (issue #24, docs/mnsp.md): full MNSP with NSP ramped in after MIM: NSP's
# weight is 0 for the first half of the run (MIM + MLA only), rises linearly to 1 at three
# quarters, and stays there.
_base_ = ['../mnsp_pretrain.py']
model = dict(nsp_ramp=(0.5, 0.75))
