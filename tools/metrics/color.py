"""YUV 4:2:0 -> RGB for the metrics that need RGB (PSNR-RGB, LPIPS, DISTS).

One fixed, documented conversion applied identically to source and decoded frames:
limited-range (16-235/240) Y'CbCr, BT.601 or BT.709 matrix, chroma upsampled by
pixel replication.  (The source is normalised to limited-range yuv420p before any
codec sees it, see tools/bench/source.py.)
"""
from __future__ import annotations

import numpy as np

_KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def upsample_chroma(c: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:height, :width]


def yuv420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, matrix: str = "bt601") -> np.ndarray:
    """uint8 planes (H,W), (ceil(H/2),ceil(W/2)) x2 -> uint8 RGB (H,W,3)."""
    kr, kb = _KR_KB[matrix]
    kg = 1.0 - kr - kb
    h, w = y.shape
    luma = (y.astype(np.float32) - 16.0) / 219.0
    cb = (upsample_chroma(u, h, w).astype(np.float32) - 128.0) / 224.0
    cr = (upsample_chroma(v, h, w).astype(np.float32) - 128.0) / 224.0
    r = luma + 2.0 * (1.0 - kr) * cr
    b = luma + 2.0 * (1.0 - kb) * cb
    g = (luma - kr * r - kb * b) / kg
    rgb = np.stack([r, g, b], axis=-1) * 255.0
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
