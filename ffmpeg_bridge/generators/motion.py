"""Global similarity motion: composing per-frame steps and warping frames with them.

Convention for one step (tx, ty, zoom, rotation) from frame k to frame k+1:
a scene point seen at pixel p = (x, y) of frame k is seen at

    p' = c + zoom * R(rotation) @ (p - c) + (tx, ty)

in frame k+1, where c = ((W-1)/2, (H-1)/2) is the image centre in pixel
coordinates (x right, y down, pixel centres at integers), tx and ty are in
pixels, zoom is the plain scale factor (> 1: content grows) and
R(r) = [[cos r, sin r], [-sin r, cos r]] in those y-down coordinates, i.e.
positive r turns the content counter-clockwise as displayed.  This is the
dequantized form of the stream's GLOBAL_SIMILARITY records (spec 5.4):
tx = code/16, ty = code/16, zoom = 2 ** (code/4096), rotation = code / 2**13.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .base import MotionStep


def step_matrix(step: MotionStep, width: int, height: int) -> np.ndarray:
    """3x3 homogeneous matrix taking frame-k pixel coordinates to frame k+1."""
    tx, ty, zoom, rot = step
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    c, s = zoom * math.cos(rot), zoom * math.sin(rot)
    return np.array([[c, s, cx + tx - c * cx - s * cy],
                     [-s, c, cy + ty + s * cx - c * cy],
                     [0.0, 0.0, 1.0]])


def cumulative(steps: Sequence[MotionStep], width: int, height: int) -> list[np.ndarray]:
    """Matrices from frame 0 to each frame 0..len(steps) (the first is identity)."""
    out = [np.eye(3)]
    for step in steps:
        out.append(step_matrix(step, width, height) @ out[-1])
    return out


def max_corner_displacement(m: np.ndarray, width: int, height: int) -> float:
    """Largest distance, in pixels, that ``m`` moves a corner of the frame."""
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], float)
    moved = corners @ m.T
    return float(np.max(np.hypot(moved[:, 0] - corners[:, 0], moved[:, 1] - corners[:, 1])))


def warp_to(img: torch.Tensor, dst_to_src: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample ``img`` (1, C, H, W) so that output pixel q shows img at dst_to_src(q).

    Returns the warped image (borders clamped) and a (1, 1, H, W) boolean
    mask of the pixels whose source lies inside ``img``.
    """
    _, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing="ij")
    m = torch.from_numpy(dst_to_src)
    sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    # Half a pixel of slack: border clamping is exact there.
    valid = (sx >= -0.5) & (sx <= w - 0.5) & (sy >= -0.5) & (sy <= h - 0.5)
    # align_corners=True maps -1/+1 to the centres of the edge pixels; a
    # one-pixel axis has only one centre, so any coordinate maps onto it.
    gx = sx * (2.0 / (w - 1)) - 1.0 if w > 1 else torch.zeros_like(sx)
    gy = sy * (2.0 / (h - 1)) - 1.0 if h > 1 else torch.zeros_like(sy)
    grid = torch.stack((gx, gy), -1).unsqueeze(0).to(device=img.device, dtype=img.dtype)
    warped = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return warped, valid.view(1, 1, h, w).to(img.device)
