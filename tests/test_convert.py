"""Official timm-key encoders convert to TextViT and compute the same features."""
import argparse
import subprocess
import sys

import torch
from timm_reference import timm_vit_forward

from mnsp_mm.models import TextViT
from mnsp_mm.utils.convert import load_official_encoder, textvit_to_timm, timm_to_textvit

D, DEPTH, HEADS, P = 32, 2, 2, 4


def official_state_dict(seed=0):
    """A random encoder in the official MAE/timm key layout (with decoder keys, as MAE stores)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    sd = {'cls_token': r(1, 1, D), 'pos_embed': r(1, 257, D),  # stored table kept as is
          'patch_embed.proj.weight': r(D, 3, P, P), 'patch_embed.proj.bias': r(D),
          'norm.weight': 1 + r(D), 'norm.bias': r(D),
          'mask_token': r(1, 1, 16), 'decoder_embed.weight': r(16, D)}
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        sd.update({b + 'norm1.weight': 1 + r(D), b + 'norm1.bias': r(D),
                   b + 'attn.qkv.weight': r(3 * D, D), b + 'attn.qkv.bias': r(3 * D),
                   b + 'attn.proj.weight': r(D, D), b + 'attn.proj.bias': r(D),
                   b + 'norm2.weight': 1 + r(D), b + 'norm2.bias': r(D),
                   b + 'mlp.fc1.weight': r(4 * D, D), b + 'mlp.fc1.bias': r(4 * D),
                   b + 'mlp.fc2.weight': r(D, 4 * D), b + 'mlp.fc2.bias': r(D)})
    return sd


def timm_reference_forward(sd, x):
    return timm_vit_forward(sd, x, HEADS)


def tiny_vit():
    return TextViT(arch=dict(embed_dims=D, num_layers=DEPTH, num_heads=HEADS,
                             feedforward_channels=4 * D), tuple_output=False).eval()


def test_converted_official_encoder_gives_the_same_features():
    official = official_state_dict()
    ours, unused = timm_to_textvit(official)
    assert sorted(unused) == ['decoder_embed.weight', 'mask_token']
    model = tiny_vit()
    missing, unexpected = model.load_state_dict(ours, strict=True)
    assert not missing and not unexpected
    assert torch.equal(model.pos_embed, official['pos_embed'])  # 16x16-layout table kept
    x = torch.randn(2, 3, 32, 128)
    with torch.no_grad():
        assert torch.allclose(model(x), timm_reference_forward(official, x), atol=1e-5)


def test_roundtrip_to_timm_keys():
    official = official_state_dict()
    ours, _ = timm_to_textvit(official)
    back, unused = textvit_to_timm(ours)
    assert not unused
    enc = {k: v for k, v in official.items() if not k.startswith(('decoder', 'mask_token'))}
    assert back.keys() == enc.keys()
    assert all(torch.equal(back[k], enc[k]) for k in enc)


def test_official_files_and_cli(tmp_path):
    official = official_state_dict()
    args = argparse.Namespace(input_size=(32, 128))
    lmim = {'model': {**{'model_maeenc.' + k: v for k, v in official.items()},
                      **{'model_maeenc_momentum.' + k: v + 1 for k, v in official.items()}},
            'args': args, 'epoch': 9}
    torch.save(lmim, tmp_path / 'lmim.pth')
    student, _, fmt = load_official_encoder(tmp_path / 'lmim.pth')
    assert fmt == 'lmim' and torch.equal(student['cls_token'], official['cls_token'])
    teacher, _, _ = load_official_encoder(tmp_path / 'lmim.pth', 'lmim_teacher')
    assert torch.equal(teacher['cls_token'], official['cls_token'] + 1)

    torch.save({'model': official, 'args': args}, tmp_path / 'mae.pth')
    out = tmp_path / 'backbone.pth'
    res = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', str(tmp_path / 'mae.pth'),
                          str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert 'format mae' in res.stdout
    # the converted file initialises the backbone through mmengine's Pretrained init_cfg
    model = TextViT(arch=dict(embed_dims=D, num_layers=DEPTH, num_heads=HEADS,
                              feedforward_channels=4 * D), tuple_output=False,
                    init_cfg=dict(type='Pretrained', checkpoint=str(out), prefix='backbone.'))
    model.init_weights()
    x = torch.randn(1, 3, 32, 128)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), timm_reference_forward(official, x), atol=1e-5)
    back = tmp_path / 'timm.pth'
    res = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', str(out), str(back),
                          '--to', 'timm'], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert torch.equal(torch.load(back)['model']['blocks.1.mlp.fc2.weight'],
                       official['blocks.1.mlp.fc2.weight'])
