"""Image tensors shared by the learned metrics."""
from __future__ import annotations

import numpy as np
import torch


def rgb_to_tensor(rgb: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 RGB, (H, W, 3) or (N, H, W, 3) -> float32 NCHW in [0, 1]."""
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.shape[-1] != 3 or arr.ndim not in (3, 4):
        raise ValueError(f"expected uint8 RGB of shape (H,W,3) or (N,H,W,3), got {arr.dtype} {arr.shape}")
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(255.0)
