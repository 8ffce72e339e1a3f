"""Image tensors shared by the learned metrics."""
from __future__ import annotations

import contextlib

import numpy as np
import torch


@contextlib.contextmanager
def one_thread():
    """torch on one thread inside: encoder decisions that pick a stream's
    bytes must not depend on the thread count (a different number of threads
    changed a few pixels of a RIFE frame)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def rgb_to_tensor(rgb: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 RGB, (H, W, 3) or (N, H, W, 3) -> float32 NCHW in [0, 1]."""
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.shape[-1] != 3 or arr.ndim not in (3, 4):
        raise ValueError(f"expected uint8 RGB of shape (H,W,3) or (N,H,W,3), got {arr.dtype} {arr.shape}")
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


class FeatureDistance(torch.nn.Module):
    """A deep metric as features() + distance_from_features(); the two ways to
    call it are shared by LPIPS and DISTS."""

    def features(self, x01: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def distance_from_features(self, fa, fb) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, x01: torch.Tensor, y01: torch.Tensor) -> torch.Tensor:
        """Per-image distance, shape (N,), for NCHW images in [0, 1]."""
        return self.distance_from_features(self.features(x01), self.features(y01))

    @torch.no_grad()
    def compare(self, ref_rgb: np.ndarray, dist_rgbs: list[np.ndarray], batch: int = 4) -> list[float]:
        """Distance of each uint8 RGB frame in dist_rgbs to ref_rgb; ref features computed once."""
        dev = next(self.buffers()).device
        fr = self.features(rgb_to_tensor(ref_rgb, dev))
        out: list[float] = []
        for i in range(0, len(dist_rgbs), batch):
            fd = self.features(rgb_to_tensor(np.stack(dist_rgbs[i:i + batch]), dev))
            out.extend(self.distance_from_features(fr, fd).tolist())
        return out
