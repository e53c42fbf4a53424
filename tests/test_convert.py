"""Official timm-key encoders convert to TextViT, the LMIM decoder to GuidedDecoder, and both
compute the same thing."""
import argparse
import runpy
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from timm_reference import timm_vit_forward

from mnsp_mm.models import GuidedDecoder, TextViT, random_masking
from mnsp_mm.checkpoint.convert import (convert_official_checkpoint, load_official_encoder,
                                   textvit_to_timm, timm_to_textvit)

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


def official_lmim_decoder(seed=0, dims=32, enc=D, depth=2, tokens=256, out=D):
    """A random decoder in the official LMIM key layout (``models_lmim.LMIMViT``)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    sd = {'decoder_embed.weight': r(dims, enc), 'decoder_embed.bias': r(dims),
          'decoder_embed2.weight': r(dims, enc), 'decoder_embed2.bias': r(dims),
          'mask_token': r(1, 1, dims), 'decoder_pos_embed': r(1, tokens + 1, dims),
          'decoder_norm.weight': 1 + r(dims), 'decoder_norm.bias': r(dims),
          'decoder_pred.weight': r(out, dims), 'decoder_pred.bias': r(out)}
    for i in range(depth):
        b = f'decoder_blocks.{i}.'
        for attn in ('self_attn', 'multihead_attn'):
            sd.update({b + attn + '.in_proj_weight': r(3 * dims, dims),
                       b + attn + '.in_proj_bias': r(3 * dims),
                       b + attn + '.out_proj.weight': r(dims, dims),
                       b + attn + '.out_proj.bias': r(dims)})
        sd.update({b + 'linear1.weight': r(4 * dims, dims), b + 'linear1.bias': r(4 * dims),
                   b + 'linear2.weight': r(dims, 4 * dims), b + 'linear2.bias': r(dims)})
        sd.update({b + f'norm{j}.{p}': (1 + r(dims)) if p == 'weight' else r(dims)
                   for j in (1, 2, 3) for p in ('weight', 'bias')})
    return sd


def official_decoder_forward(sd, x, ids_restore, context, num_heads):
    """``LMIMViT.forward_decoder`` written out on the official keys (eval mode, eps 1e-6)."""
    def ln(t, name):
        return F.layer_norm(t, t.shape[-1:], sd[name + '.weight'], sd[name + '.bias'], 1e-6)

    def attn(q_in, kv_in, name):
        B, N, E = q_in.shape
        w, b = sd[name + '.in_proj_weight'].chunk(3), sd[name + '.in_proj_bias'].chunk(3)
        q, k, v = (F.linear(t, wi, bi).reshape(B, -1, num_heads, E // num_heads).transpose(1, 2)
                   for t, wi, bi in zip((q_in, kv_in, kv_in), w, b))
        a = ((q @ k.transpose(-2, -1)) * (E // num_heads)**-0.5).softmax(-1)
        o = (a @ v).transpose(1, 2).reshape(B, N, E)
        return F.linear(o, sd[name + '.out_proj.weight'], sd[name + '.out_proj.bias'])

    x = F.linear(x, sd['decoder_embed.weight'], sd['decoder_embed.bias'])
    mem = F.linear(context, sd['decoder_embed2.weight'], sd['decoder_embed2.bias'])
    masks = sd['mask_token'].repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
    t = torch.cat([x[:, 1:], masks], 1)
    t = torch.gather(t, 1, ids_restore[..., None].repeat(1, 1, x.shape[2]))
    t = torch.cat([x[:, :1], t], 1) + sd['decoder_pos_embed']
    depth = len({k.split('.')[1] for k in sd if k.startswith('decoder_blocks.')})
    for i in range(depth):
        b = f'decoder_blocks.{i}.'
        t = ln(t + attn(t, t, b + 'self_attn'), b + 'norm1')
        t = ln(t + attn(t, mem, b + 'multihead_attn'), b + 'norm2')
        h = F.linear(F.gelu(F.linear(t, sd[b + 'linear1.weight'], sd[b + 'linear1.bias'])),
                     sd[b + 'linear2.weight'], sd[b + 'linear2.bias'])
        t = ln(t + h, b + 'norm3')
    t = F.linear(ln(t, 'decoder_norm'), sd['decoder_pred.weight'], sd['decoder_pred.bias'])
    return t[:, 1:]


def test_official_lmim_checkpoint_converts_whole(tmp_path, monkeypatch, capsys):
    """Student + decoder (--format lmim) and teacher (lmim_teacher): nothing is lost."""
    enc = official_state_dict()
    enc = {k: v for k, v in enc.items() if not k.startswith(('decoder', 'mask_token'))}
    dec = official_lmim_decoder()
    model_sd = {**{'model_maeenc.' + k: v for k, v in enc.items()},
                **{'model_maeenc_momentum.' + k: v + 1 for k, v in enc.items()}, **dec}
    torch.save({'model': model_sd, 'args': argparse.Namespace(mask_ratio=0.8)},
               tmp_path / 'lmim.pth')
    ours, unused, fmt = convert_official_checkpoint(tmp_path / 'lmim.pth', 'lmim')
    assert fmt == 'lmim' and not unused
    neck = {k[len('neck.'):]: v for k, v in ours.items() if k.startswith('neck.')}
    assert len(neck) == len(dec)
    assert len(ours) == len(neck) + len(enc)  # every student and decoder tensor, no other

    decoder = GuidedDecoder(grid=(8, 32), in_dims=D, embed_dims=32, depth=2, num_heads=2,
                            ffn_dims=128, out_dims=D).eval()
    missing, unexpected = decoder.load_state_dict(neck, strict=True)
    assert not missing and not unexpected
    # the official 16x16-layout position table is kept as stored, not rebuilt on 8x32
    assert torch.equal(decoder.pos_embed, dec['decoder_pos_embed'])
    assert all(m.eps == 1e-6 for m in decoder.modules() if isinstance(m, torch.nn.LayerNorm))

    x = torch.randn(2, 256, D)
    kept, _, ids_restore, _ = random_masking(x, 0.8)
    tokens = torch.cat([torch.randn(2, 1, D), kept], 1)
    context = torch.randn(2, 257, D)
    with torch.no_grad():
        expected = official_decoder_forward(dec, tokens, ids_restore, context, num_heads=2)
        assert torch.allclose(decoder(tokens, ids_restore, context), expected, atol=1e-5)

    teacher, _, _ = load_official_encoder(tmp_path / 'lmim.pth', 'lmim_teacher')
    assert all(torch.equal(teacher[k], v + 1) for k, v in timm_to_textvit(enc)[0].items())

    out = tmp_path / 'lmim_ours.pth'
    monkeypatch.setattr(sys, 'argv', ['convert_checkpoint.py', str(tmp_path / 'lmim.pth'),
                                      str(out), '--format', 'lmim'])
    runpy.run_path('tools/convert_checkpoint.py', run_name='__main__')  # in process: fast
    assert f'{len(dec)} of them the decoder' in capsys.readouterr().out
    assert torch.equal(torch.load(out)['state_dict']['neck.blocks.1.cross_attn.in_proj_weight'],
                       dec['decoder_blocks.1.multihead_attn.in_proj_weight'])

    # a student-only file is not an LMIM pretraining checkpoint: say so, do not drop the decoder
    torch.save({'model': {'model_maeenc.' + k: v for k, v in enc.items()}}, tmp_path / 's.pth')
    with pytest.raises(ValueError, match='no official decoder keys'):
        convert_official_checkpoint(tmp_path / 's.pth', 'lmim')


def test_converted_lmim_checkpoint_fills_the_lmim_model_but_its_teacher(tmp_path, mae_ckpt):
    """The --format lmim output (student + decoder) covers every weight of our LMIM model
    except the frozen teacher, which comes from the same file with lmim_teacher."""
    from conftest import tiny_model
    model = tiny_model('configs/lmim/lmim_text-vit-tiny_1xb16-coslr-20iter_synth.py', mae_ckpt)
    student, _ = textvit_to_timm(model.backbone.state_dict())
    official = {**{'model_maeenc.' + k: v + 1 for k, v in student.items()},
                **official_lmim_decoder(dims=64, enc=96, depth=1, out=96)}
    torch.save({'model': official}, tmp_path / 'lmim.pth')
    ours, unused, _ = convert_official_checkpoint(tmp_path / 'lmim.pth', 'lmim')
    missing, unexpected = model.load_state_dict(ours, strict=False)
    assert not unused and not unexpected
    assert missing and all(k.startswith('target_generator.') for k in missing)
    assert torch.equal(model.neck.blocks[0].norm_ffn.weight,
                       official['decoder_blocks.0.norm3.weight'])
