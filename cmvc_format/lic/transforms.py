"""The trained part of the learned image codec: a compressive autoencoder that
works on TAEF2 latents (32 channels at 1/8 of the picture) and shrinks them to
a code at 1/32 of the picture, plus the factorized prior of that code.

Variable rate comes from one model: quality level q multiplies the code by a
learned per-channel gain before rounding and divides by a learned inverse gain
after (the "gained" variable-rate scheme), and each q has its own prior.

Only the trained floats live here. What the bitstream depends on - the integer
frequency tables the range coder uses - is derived once at export time by
`quantized_tables` and stored next to the weights, so no decoder ever turns a
float into a probability.
"""
from __future__ import annotations

import math

import torch
from torch import nn

#: Latent samples per code sample along each axis (two stride-2 stages).
CODE_STRIDE = 4


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.GELU(),
            nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class LatentCodec(nn.Module):
    """analysis(x) = linear(x) + branch(x); synthesis(y) = linear(y) + branch(y).

    The linear parts are a 4x4 block transform (stride-4 convolutions), which
    training initialises with the KLT of the training latents; the nonlinear
    branches start at zero and learn what the block transform misses. A
    compressive autoencoder trained from scratch needs far more steps than 2
    CPU cores give in an hour: this one starts as a working transform coder.
    """

    def __init__(self, n_quality: int = 8, latent: int = 32, hidden: int = 128,
                 code: int = 96, mixture: int = 3):
        super().__init__()
        self._config = dict(n_quality=n_quality, latent=latent, hidden=hidden, code=code, mixture=mixture)
        self.n_quality, self.code_channels = n_quality, code
        self.analysis_linear = nn.Conv2d(latent, code, CODE_STRIDE, stride=CODE_STRIDE)
        self.analysis = nn.Sequential(
            nn.Conv2d(latent, hidden, 3, padding=1), nn.GELU(),
            nn.Conv2d(hidden, hidden, 4, stride=2, padding=1), nn.GELU(),
            _Residual(hidden),
            nn.Conv2d(hidden, hidden, 4, stride=2, padding=1), nn.GELU(),
            _Residual(hidden),
            nn.Conv2d(hidden, code, 3, padding=1))
        self.synthesis_linear = nn.ConvTranspose2d(code, latent, CODE_STRIDE, stride=CODE_STRIDE)
        self.synthesis = nn.Sequential(
            nn.Conv2d(code, hidden, 3, padding=1), nn.GELU(),
            _Residual(hidden),
            nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1), nn.GELU(),
            _Residual(hidden),
            nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(hidden, latent, 3, padding=1))
        for branch in (self.analysis, self.synthesis):
            nn.init.zeros_(branch[-1].weight)
            nn.init.zeros_(branch[-1].bias)
        # Quality 0 codes coarsest: quantiser steps 8 .. 1 of the unit-gain code.
        start = torch.linspace(math.log(1 / 8), math.log(1.0), n_quality)
        self.log_gain = nn.Parameter(start[:, None].repeat(1, code))
        self.log_inv_gain = nn.Parameter(-start[:, None].repeat(1, code))
        # Factorized prior: a mixture of logistics per (quality, channel).
        self.prior_loc = nn.Parameter(torch.randn(n_quality, code, mixture) * 0.1)
        self.prior_log_scale = nn.Parameter(torch.zeros(n_quality, code, mixture))
        self.prior_logit = nn.Parameter(torch.zeros(n_quality, code, mixture))

    @torch.no_grad()
    def init_block_transform(self, basis: torch.Tensor, mean: torch.Tensor) -> None:
        """basis: [latent*4*4, code] orthonormal columns (the KLT's leading
        eigenvectors), mean: [latent*4*4] block mean."""
        c, k = self.code_channels, CODE_STRIDE
        latent = basis.shape[0] // (k * k)
        w = basis.T.reshape(c, latent, k, k).float()
        self.analysis_linear.weight.copy_(w)
        self.analysis_linear.bias.copy_(-(basis.T.float() @ mean.float()))
        self.synthesis_linear.weight.copy_(w)  # ConvTranspose2d weight: [in=code, out=latent, k, k]
        self.synthesis_linear.bias.copy_(mean.reshape(latent, k * k).mean(1).float())

    def config(self) -> dict:
        return dict(self._config)

    # -- transforms ---------------------------------------------------------
    def analyse(self, latent: torch.Tensor, quality: int) -> torch.Tensor:
        """Scaled, unrounded code: rounding it gives the coded symbols."""
        code = self.analysis_linear(latent) + self.analysis(latent)
        return code * self.log_gain[quality].exp()[None, :, None, None]

    def synthesise(self, symbols: torch.Tensor, quality: int) -> torch.Tensor:
        code = symbols * self.log_inv_gain[quality].exp()[None, :, None, None]
        return self.synthesis_linear(code) + self.synthesis(code)

    # -- prior --------------------------------------------------------------
    def _cdf(self, v: torch.Tensor, quality: int) -> torch.Tensor:
        """Mixture CDF at v (N, C, H, W), in v's dtype (float64 for the
        tables); components broadcast on a new last axis."""
        dtype = v.dtype
        loc = self.prior_loc[quality].to(dtype)[None, :, None, None, :]
        inv_scale = (-self.prior_log_scale[quality].to(dtype)).exp()[None, :, None, None, :]
        weight = self.prior_logit[quality].to(dtype).softmax(-1)[None, :, None, None, :]
        return (weight * torch.sigmoid((v[..., None] - loc) * inv_scale)).sum(-1)

    def likelihood(self, v: torch.Tensor, quality: int) -> torch.Tensor:
        """Probability of the unit bin around v under quality's prior."""
        p = self._cdf(v + 0.5, quality) - self._cdf(v - 0.5, quality)
        return p.clamp_min(1e-9)

    @torch.no_grad()
    def quantized_tables(self, quality: int, precision: int = 16,
                         tail: float = 1e-7, max_radius: int = 255):
        """Integer frequency tables for quality's prior, one row per channel,
        over symbols -radius..radius; every entry >= 1, rows sum to
        2**precision. Returned as (radius, int32 array [C, 2*radius+1])."""
        radius = 1
        while radius < max_radius:
            edge = torch.tensor([-radius - 0.5, radius + 0.5], dtype=torch.float64)
            cdf = self._cdf_f64(edge, quality)
            if float((cdf[:, 0] + 1 - cdf[:, 1]).max()) < tail:
                break
            radius += 1
        v = torch.arange(-radius, radius + 1, dtype=torch.float64)
        upper = self._cdf_f64(v + 0.5, quality)
        lower = self._cdf_f64(v - 0.5, quality)
        pmf = upper - lower
        # The tails beyond the table belong to the edge symbols (the encoder
        # clamps its symbols into range).
        pmf[:, 0] += lower[:, 0]
        pmf[:, -1] += 1 - upper[:, -1]
        return radius, _integer_frequencies(pmf.numpy(), precision)

    def _cdf_f64(self, v: torch.Tensor, quality: int) -> torch.Tensor:
        """float64 CDF at the points v (1-D) for every channel: [C, len(v)]."""
        return self._cdf(v.view(1, 1, -1, 1), quality)[0, :, :, 0]


def _integer_frequencies(pmf, precision: int):
    """Rows of probabilities -> integer rows, each entry >= 1, summing to
    2**precision exactly (largest entry absorbs the rounding)."""
    import numpy as np

    total = 1 << precision
    pmf = np.maximum(pmf, 0.0)
    pmf = pmf / pmf.sum(axis=1, keepdims=True)
    freq = np.maximum(np.round(pmf * (total - pmf.shape[1])), 0).astype(np.int64) + 1
    rows = np.arange(freq.shape[0])
    freq[rows, freq.argmax(axis=1)] += total - freq.sum(axis=1)
    assert (freq >= 1).all() and (freq.sum(axis=1) == total).all()
    return freq.astype(np.int32)
