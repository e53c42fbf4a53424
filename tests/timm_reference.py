"""An independent timm-style ViT forward, written against the official (timm) key names.

Used to check that converted official weights compute the same thing in our TextViT.
"""
import torch
import torch.nn.functional as F


def timm_vit_forward(sd, x, num_heads):
    """timm ``VisionTransformer.forward_features`` (MAE / MAERec) on a timm-key state dict.

    Args:
        sd: timm-key encoder weights (``blocks.N.attn.qkv.weight``, ...).
        x: (B, 3, H, W) images.
        num_heads: attention heads.

    Returns:
        (B, 1 + L, D) tokens after the final norm.
    """
    D = sd['cls_token'].shape[-1]
    patch = sd['patch_embed.proj.weight'].shape[-2:]
    depth = len({k.split('.')[1] for k in sd if k.startswith('blocks.')})
    t = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=patch)
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat([sd['cls_token'].expand(len(x), -1, -1), t], 1) + sd['pos_embed']
    for i in range(depth):
        b = f'blocks.{i}.'
        h = F.layer_norm(t, (D, ), sd[b + 'norm1.weight'], sd[b + 'norm1.bias'], 1e-6)
        B, N, _ = h.shape
        qkv = F.linear(h, sd[b + 'attn.qkv.weight'], sd[b + 'attn.qkv.bias'])
        q, k, v = qkv.reshape(B, N, 3, num_heads, D // num_heads).permute(2, 0, 3, 1, 4)
        a = ((q @ k.transpose(-2, -1)) * (D // num_heads)**-0.5).softmax(-1)
        h = (a @ v).transpose(1, 2).reshape(B, N, D)
        t = t + F.linear(h, sd[b + 'attn.proj.weight'], sd[b + 'attn.proj.bias'])
        h = F.layer_norm(t, (D, ), sd[b + 'norm2.weight'], sd[b + 'norm2.bias'], 1e-6)
        h = F.linear(F.gelu(F.linear(h, sd[b + 'mlp.fc1.weight'], sd[b + 'mlp.fc1.bias'])),
                     sd[b + 'mlp.fc2.weight'], sd[b + 'mlp.fc2.bias'])
        t = t + h
    return F.layer_norm(t, (D, ), sd['norm.weight'], sd['norm.bias'], 1e-6)
