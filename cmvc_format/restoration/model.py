"""Loading and running the shipped restoration network.

Weights: `weights/av1lr-<sha8>.safetensors` (tools/train_restoration.py),
checked against the SHA-256 prefix in their name like the lic weights.
Precision follows the CPU as in the lic codec (bfloat16 where the CPU has it
natively, else float32; `CMVC_LIC_PRECISION` overrides both). The output is
floating point: like cmvc-lic pictures, it may differ by a few levels
between machines, never in the decoded AV1 picture it starts from.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from ..lic.codec import autocast, choose_precision
from ..lic.weights_file import check_weights, find_weights, sha256_file, write_named_weights

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL = "av1lr"


class RestorationModel:
    def __init__(self, path: Path | None = None, precision: str | None = None):
        import torch
        from safetensors import safe_open

        from .network import Restorer

        self._torch = torch
        path = check_weights(Path(path)) if path else find_weights(MODEL, WEIGHTS_DIR, "tools/train_restoration.py")
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            state = {k: f.get_tensor(k).float() for k in f.keys()}
        self.network = Restorer(**json.loads(meta["config"]))
        self.network.load_state_dict(state)
        self.network.eval().requires_grad_(False).to(memory_format=torch.channels_last)
        self.sha256 = sha256_file(path)
        self.name = f"{MODEL}-{self.sha256[:8]}"
        self.model_id = bytes.fromhex(self.sha256)[:4]
        self.precision = choose_precision(torch, precision)

    def restore(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 HxWx3 -> uint8 HxWx3 (odd sizes padded by edge replication
        to even, then cropped)."""
        torch = self._torch
        h, w = rgb.shape[:2]
        padded = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if h % 2 or w % 2 else rgb
        x = torch.from_numpy(np.ascontiguousarray(padded)).permute(2, 0, 1)[None].float() / 255
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), autocast(torch, self.precision):
            y = self.network(x).float().clamp(0, 1)
        out = (y[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(out[:h, :w])


def save_weights(network, out_dir: Path) -> Path:
    """Export a trained Restorer as `av1lr-<sha8>.safetensors` (float16
    tensors, sorted header); returns the path."""
    tensors = {k: v.detach().half().contiguous() for k, v in network.state_dict().items()}
    meta = {"model": MODEL, "config": json.dumps(network.config(), sort_keys=True)}
    return write_named_weights(MODEL, tensors, meta, out_dir)


_cache: dict = {}
_lock = threading.Lock()


def load_restoration(path=None, precision: str | None = None) -> RestorationModel:
    """The shipped network, loaded once per process (or the given weights)."""
    key = (str(path), precision)
    with _lock:
        if key not in _cache:
            _cache[key] = RestorationModel(path, precision)
        return _cache[key]
