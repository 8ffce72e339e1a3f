"""PSNR per plane (Y, U, V), the plane-size-weighted YUV average, and RGB.

Pooling follows FFmpeg's `psnr` filter so numbers can be checked against it: the
clip value is the PSNR of the mean per-frame MSE (not the mean of per-frame PSNRs),
and "yuv" weights each plane's MSE by its share of the samples (4:1:1 for 4:2:0).
Identical inputs give +inf.
"""
from __future__ import annotations

import math

import numpy as np


def mse(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse(value: float, peak: float = 255.0) -> float:
    return math.inf if value <= 0 else 10.0 * math.log10(peak * peak / value)


class PSNR:
    """Accumulate frames, then `result()` gives psnr_y/u/v/yuv (and psnr_rgb if RGB was given)."""

    def __init__(self):
        self._sums = {"y": 0.0, "u": 0.0, "v": 0.0, "yuv": 0.0, "rgb": 0.0}
        self._frames = 0
        self._rgb_frames = 0

    def add(self, ref_yuv, dist_yuv, ref_rgb=None, dist_rgb=None) -> None:
        plane_mse = [mse(r, d) for r, d in zip(ref_yuv, dist_yuv)]
        sizes = [p.size for p in ref_yuv]
        for key, m in zip("yuv", plane_mse):
            self._sums[key] += m
        self._sums["yuv"] += sum(m * s for m, s in zip(plane_mse, sizes)) / sum(sizes)
        self._frames += 1
        if ref_rgb is not None:
            self._sums["rgb"] += mse(ref_rgb, dist_rgb)
            self._rgb_frames += 1

    def result(self) -> dict[str, float]:
        if not self._frames:
            raise ValueError("no frames")
        out = {f"psnr_{k}": psnr_from_mse(self._sums[k] / self._frames) for k in ("y", "u", "v", "yuv")}
        if self._rgb_frames:
            out["psnr_rgb"] = psnr_from_mse(self._sums["rgb"] / self._rgb_frames)
        return out
