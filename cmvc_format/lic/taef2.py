"""The frozen pixel <-> latent transform of the learned image codec: TAEF2.

TAEF2 is the tiny autoencoder for the FLUX.2 latent space by Ollin Boer Bohan
(github.com/madebyollin/taesd, MIT; notice in weights/LICENSE-taesd.txt). It
maps an RGB picture in [0, 1] to 32 channels at 1/8 of its size and back. The
layers are restated here from the weight file's layout: the codec must not
depend on a package that would fetch weights from a hub.

Layout of both weight files: `nn.Sequential` indices. The decoder's index 0
is the parameterless soft clamp, so its first convolution is `1.weight`.

`top` is the width of the full-resolution stage (the encoder's first block,
the decoder's last). TAEF2 has 64; the slim variant the codec ships
(`taef2s`, distilled from TAEF2 by tools/distill_taef2.py) has 32, which
takes 4 times fewer operations in the layers that cost half of the whole.
"""
from __future__ import annotations

import torch
from torch import nn

LATENT_CHANNELS = 32
#: Pixels per latent sample along each axis.
STRIDE = 8


def _conv3(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class _SoftClamp(nn.Module):
    """Squashes latents into (-3, 3) before the decoder, as it was trained."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class _Block(nn.Module):
    """Three 3x3 convolutions with a residual; the deep blocks first add a
    1x1 bottleneck branch with group norm (the FLUX.2 variant's `pool`)."""

    def __init__(self, channels: int = 64, with_pool: bool = False):
        super().__init__()
        self.conv = nn.Sequential(
            _conv3(channels, channels), nn.ReLU(),
            _conv3(channels, channels), nn.ReLU(),
            _conv3(channels, channels))
        self.pool = None
        if with_pool:
            wide = 4 * channels
            self.pool = nn.Sequential(
                nn.Conv2d(channels, wide, 1, bias=False), nn.GroupNorm(4, wide), nn.ReLU(),
                nn.Conv2d(wide, channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return torch.relu(self.conv(x) + x)


def build_encoder(top: int = 64) -> nn.Sequential:
    down = lambda n_in=64: _conv3(n_in, 64, stride=2, bias=False)  # noqa: E731
    return nn.Sequential(
        _conv3(3, top), _Block(top),
        down(top), _Block(), _Block(), _Block(),
        down(), _Block(), _Block(), _Block(),
        down(), _Block(with_pool=True), _Block(with_pool=True), _Block(with_pool=True),
        _conv3(64, LATENT_CHANNELS))


def build_decoder(top: int = 64) -> nn.Sequential:
    up = lambda n_out=64: (nn.Upsample(scale_factor=2), _conv3(64, n_out, bias=False))  # noqa: E731
    return nn.Sequential(
        _SoftClamp(), _conv3(LATENT_CHANNELS, 64), nn.ReLU(),
        _Block(with_pool=True), _Block(with_pool=True), _Block(with_pool=True),
        *up(), _Block(), _Block(), _Block(),
        *up(), _Block(), _Block(), _Block(),
        *up(top), _Block(top),
        _conv3(top, 3))


#: Index of the first full-resolution layer of each (the encoder's stage ends
#: with its stride-2 convolution, index 2).
ENCODER_TOP_END = 3
DECODER_TOP_START = 16


def top_width(state: dict, prefix: str = "encoder.") -> int:
    """The full-resolution width of a weight file's encoder or decoder."""
    key = "0.weight" if prefix == "encoder." else f"{DECODER_TOP_START + 1}.weight"
    return int(state[prefix + key].shape[0])
