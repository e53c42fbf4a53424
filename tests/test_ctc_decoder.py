"""TokenCTCDecoder: CTC over the columns of a ViT token grid (the demo's recognition head)."""
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import LabelData
from mmocr.structures import TextRecogDataSample

import mnsp_mm  # noqa: F401  (registration)
from mnsp_mm.models.textrecog import TokenCTCDecoder

DICT = dict(type='Dictionary', with_padding=True, with_unknown=True, same_start_end=True,
            with_start=True, with_end=True,
            dict_file=str(Path(__file__).resolve().parents[1] / 'configs' / '_base_' /
                          'textrecog' / 'dicts' / 'lower_english_digits.txt'))


def _samples(texts):
    out = []
    for text in texts:
        s = TextRecogDataSample()
        s.set_metainfo(dict(valid_ratio=1.0))
        s.gt_text = LabelData(item=text)
        out.append(s)
    return out


@pytest.fixture(autouse=True)
def mmocr_scope():
    init_default_scope('mmocr')


def test_columns_are_the_time_steps_and_the_cls_token_is_ignored():
    dec = TokenCTCDecoder(in_channels=8, grid=(2, 5), dictionary=DICT)
    feat = torch.randn(3, 1 + 10, 8)
    out = dec.forward_train(feat)
    assert out.shape == (3, 5, dec.dictionary.num_classes)
    feat2 = feat.clone()
    feat2[:, 0] = 100.0  # the [cls] token changes nothing
    assert torch.equal(dec.forward_train(feat2), out)
    probs = dec.forward_test(feat)
    assert torch.allclose(probs.sum(-1), torch.ones(3, 5))


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match='max_seq_len=9 > 5 columns'):
        TokenCTCDecoder(in_channels=8, grid=(2, 5), dictionary=DICT, max_seq_len=9)
    with pytest.raises(ValueError, match='with_padding=True'):
        TokenCTCDecoder(in_channels=8, grid=(2, 5), dictionary=dict(DICT, with_padding=False))
    dec = TokenCTCDecoder(in_channels=8, grid=(4, 5), dictionary=DICT)
    with pytest.raises(ValueError, match='model.decoder.grid'):
        dec.forward_train(torch.randn(1, 10, 8))


def test_learns_to_read_fixed_features_and_decodes_them():
    torch.manual_seed(0)
    texts = ['ab1', 'zz9x', 'hello']
    dec = TokenCTCDecoder(in_channels=16, grid=(1, 8), dictionary=DICT)
    feat = torch.randn(len(texts), 8, 16)
    opt = torch.optim.Adam(dec.parameters(), lr=0.05)
    losses = []
    for _ in range(150):
        loss = dec.loss(feat, None, _samples(texts))['loss_ctc']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    preds = dec.predict(feat, None, _samples(texts))
    assert [p.pred_text.item for p in preds] == texts
