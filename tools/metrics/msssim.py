"""MS-SSIM (Wang, Simoncelli, Bovik 2003) on luma, in torch.

Parameters as in the paper and its reference MATLAB code: 11x11 Gaussian window,
sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range 255, five scales with exponents
(0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2x2 mean downsampling, 'valid' filtering.

Two deliberate choices, stated because other implementations differ:
* contrast-structure terms are clamped at 0 before the fractional powers (as the
  widely used pytorch_msssim does), so heavy distortion gives a small value, not NaN;
* a scale smaller than the 11-tap window (QCIF's 144 rows reach 9 rows at scale 5)
  uses the largest odd window that fits, same sigma, renormalised, rather than
  refusing the image.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_K1, _K2, _L = 0.01, 0.03, 255.0
_SIGMA, _WIN = 1.5, 11


def _gauss(size: int, sigma: float, device) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return (g / g.sum()).float()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter as shifted sums: for an 11-tap 1-D kernel this is
    several times faster on CPU than conv2d, and the same arithmetic on any device."""
    k = g.numel()
    w = x.shape[-1] - k + 1
    h = x.shape[-2] - k + 1
    rows = sum(g[i] * x[..., :, i:i + w] for i in range(k))
    return sum(g[i] * rows[..., i:i + h, :] for i in range(k))


def _ssim_cs(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x may have batch 1 against a larger batch y: its statistics are computed once."""
    size = min(_WIN, x.shape[-2], x.shape[-1])
    size -= (size + 1) % 2  # odd
    g = _gauss(size, _SIGMA, x.device)
    c1, c2 = (_K1 * _L) ** 2, (_K2 * _L) ** 2
    mx, my = _blur(x, g), _blur(y, g)
    sxx = _blur(x * x, g) - mx * mx
    syy = _blur(y * y, g) - my * my
    sxy = _blur(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return (lum * cs).double().mean(dim=(1, 2, 3)), cs.double().mean(dim=(1, 2, 3))


def _down(x: torch.Tensor) -> torch.Tensor:
    # Odd sizes: repeat the last row/column (MATLAB 'symmetric' padding for a 2-tap filter).
    pad_h, pad_w = x.shape[-2] % 2, x.shape[-1] % 2
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return F.avg_pool2d(x, 2)


@torch.no_grad()
def ms_ssim(ref: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """MS-SSIM per image for (N, 1, H, W) tensors on a 0..255 scale; returns (N,).

    ref may be a single image (1, 1, H, W) compared with every image of dist."""
    if ref.dim() != 4 or ref.shape[1] != 1 or ref.shape[-2:] != dist.shape[-2:] \
            or ref.shape[0] not in (1, dist.shape[0]) or dist.dim() != 4:
        raise ValueError(f"expected (N,1,H,W) tensors (or a batch-1 reference), got "
                         f"{tuple(ref.shape)} and {tuple(dist.shape)}")
    if min(ref.shape[-2:]) < 2 ** (len(WEIGHTS) - 1):
        raise ValueError(f"image {tuple(ref.shape[-2:])} too small for {len(WEIGHTS)} MS-SSIM scales")
    # float32 is enough: variances of 0..255 data carry an absolute error of ~1e-2,
    # against C2 = 58.5 in the denominator; the pooled means are taken in float64.
    x, y = ref.float(), dist.float()
    w = torch.tensor(WEIGHTS, dtype=torch.float64, device=x.device)
    values = []
    for scale in range(len(WEIGHTS)):
        ssim, cs = _ssim_cs(x, y)
        values.append(torch.relu(ssim if scale == len(WEIGHTS) - 1 else cs))
        if scale < len(WEIGHTS) - 1:
            x, y = _down(x), _down(y)
    stacked = torch.stack(values, dim=1)  # (N, scales)
    return torch.prod(stacked ** w, dim=1)


def ms_ssim_luma(ref_y: np.ndarray, dist_y: np.ndarray, device: str = "cpu") -> np.ndarray:
    """MS-SSIM of uint8 luma planes, (H, W) or (N, H, W); returns one value per frame.

    ref_y may be a single (H, W) plane compared with every plane of a (N, H, W) dist_y.
    """
    r = torch.from_numpy(np.array(ref_y, dtype=np.float32, ndmin=3)).to(device)
    d = torch.from_numpy(np.array(dist_y, dtype=np.float32, ndmin=3)).to(device)
    return ms_ssim(r[:, None], d[:, None]).cpu().numpy()
