"""IFNet of RIFE 4.25 (Practical-RIFE), written for inference only.

RIFE (Huang et al., ECCV 2022) estimates the two flows from an intermediate
frame at time t back to both inputs, coarse to fine, plus a fusion mask; the
output is the mask-weighted mix of both inputs warped by those flows.  The 4.2x
line adds a small feature encoder whose 4-channel maps are warped along with
the images, and each block hands 8 feature channels to the next.

Parameter names follow the published checkpoint (``block{i}.conv0.*``,
``block{i}.convblock.*``, ``block{i}.lastconv.*``, ``encode.cnn*``) so its
state dict loads strictly; its training-only tensors are dropped by
``load_inference_state``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Working widths of the five flow blocks, coarsest first.
BLOCK_WIDTHS = (192, 128, 96, 64, 32)
#: Each block works at 1/scale of the (padded) input resolution.
BASE_SCALES = (16, 8, 4, 2, 1)
FEATURE_CHANNELS = 4      # per image, from the encoder
HIDDEN_CHANNELS = 8       # handed from one block to the next
#: Block output: 4 flow channels (t->0 and t->1), 1 mask, 8 hidden.
BLOCK_OUTPUTS = 4 + 1 + HIDDEN_CHANNELS
#: Checkpoint tensors that only training uses (distillation teacher, timestep regressor).
TRAINING_ONLY_PREFIXES = ("teacher.", "caltime.")


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(0.2, inplace=True)


class FeatureEncoder(nn.Module):
    """Per-image 4-channel features at full resolution (down 2x, up 2x)."""

    def __init__(self) -> None:
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.cnn1 = nn.Conv2d(16, 16, 3, padding=1)
        self.cnn2 = nn.Conv2d(16, 16, 3, padding=1)
        self.cnn3 = nn.ConvTranspose2d(16, FEATURE_CHANNELS, 4, stride=2, padding=1)
        self.act = _leaky()

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.act(self.cnn0(img))
        x = self.act(self.cnn1(x))
        x = self.act(self.cnn2(x))
        return self.cnn3(x)


class ScaledResidual(nn.Module):
    """x + beta * conv(x), then LeakyReLU; beta is learned per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.beta = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.act = _leaky()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x) * self.beta + x)


def _down_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), _leaky())


class FlowBlock(nn.Module):
    """One coarse-to-fine stage: predicts (flow, mask logit, hidden) at 1/scale.

    Internally it works at a further 1/4 (two stride-2 convs) and returns to
    1/scale with a transposed conv and a 2x pixel shuffle.
    """

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_down_conv(in_channels, width // 2), _down_conv(width // 2, width))
        self.convblock = nn.Sequential(*(ScaledResidual(width) for _ in range(8)))
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(width, 4 * BLOCK_OUTPUTS, 4, stride=2, padding=1),
                                      nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float):
        if scale != 1:
            x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            if scale != 1:
                # Flow is in pixels, so it shrinks with the image.
                flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear",
                                     align_corners=False) / scale
            x = torch.cat((x, flow), 1)
        out = self.lastconv(self.convblock(self.conv0(x)))
        if scale != 1:
            out = F.interpolate(out, scale_factor=scale, mode="bilinear", align_corners=False)
        return out[:, :4] * scale, out[:, 4:5], out[:, 5:]


def backward_warp(src: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``src`` at (x + flow_x, y + flow_y); flow in pixels, borders clamped."""
    n, _, h, w = flow.shape
    ys = torch.linspace(-1.0, 1.0, h, device=flow.device, dtype=flow.dtype)
    xs = torch.linspace(-1.0, 1.0, w, device=flow.device, dtype=flow.dtype)
    base = torch.stack((xs.view(1, w).expand(h, w), ys.view(h, 1).expand(h, w)))  # 2,H,W
    # align_corners=True: -1 and +1 are the centres of the edge pixels.
    offset = torch.cat((flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)), 1)
    grid = (base.unsqueeze(0) + offset).permute(0, 2, 3, 1)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)


class IFNet(nn.Module):
    """Intermediate-flow network; ``forward`` returns frames at the given timesteps.

    Inputs are float RGB in [0, 1], height and width multiples of
    ``64 / scale``.  ``img0`` and ``img1`` are (1, 3, H, W) or (N, 3, H, W);
    ``timestep`` is (N,) with values in [0, 1].
    """

    def __init__(self) -> None:
        super().__init__()
        first_in = 2 * 3 + 2 * FEATURE_CHANNELS + 1
        # Later blocks also see the mask, the hidden state and (appended
        # inside the block) the current flow.
        next_in = first_in + 1 + HIDDEN_CHANNELS + 4
        for i, width in enumerate(BLOCK_WIDTHS):
            setattr(self, f"block{i}", FlowBlock(first_in if i == 0 else next_in, width))
        self.encode = FeatureEncoder()

    def blocks(self) -> list[FlowBlock]:
        return [getattr(self, f"block{i}") for i in range(len(BLOCK_WIDTHS))]

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor,
                scale: float = 1.0) -> torch.Tensor:
        n = timestep.shape[0]
        _, _, h, w = img0.shape
        # Features do not depend on t: encode each input once, then share.
        src0 = torch.cat((img0, self.encode(img0)), 1).expand(n, -1, -1, -1)
        src1 = torch.cat((img1, self.encode(img1)), 1).expand(n, -1, -1, -1)
        t = timestep.to(img0.dtype).view(n, 1, 1, 1).expand(n, 1, h, w)

        flow = mask = hidden = None
        warped0, warped1 = src0, src1
        for block, base in zip(self.blocks(), BASE_SCALES):
            if flow is None:
                x = torch.cat((src0[:, :3], src1[:, :3], src0[:, 3:], src1[:, 3:], t), 1)
                flow, mask, hidden = block(x, None, base / scale)
            else:
                x = torch.cat((warped0[:, :3], warped1[:, :3], warped0[:, 3:], warped1[:, 3:],
                               t, mask, hidden), 1)
                delta, mask, hidden = block(x, flow, base / scale)
                flow = flow + delta
            # Images and their features move together, so warp them in one call.
            warped0 = backward_warp(src0, flow[:, :2])
            warped1 = backward_warp(src1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        return warped0[:, :3] * weight + warped1[:, :3] * (1 - weight)


def load_inference_state(net: IFNet, state: dict[str, torch.Tensor]) -> None:
    """Load a Practical-RIFE 4.25 state dict strictly, minus training-only tensors.

    Strict loading is the point: a checkpoint of another 4.x variant (other
    widths, 8-channel encoder, 4 blocks) fails here instead of running with
    half of its layers left at random initialisation.
    """
    # Multi-GPU training saves names prefixed with "module.".
    state = {k.removeprefix("module."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith(TRAINING_ONLY_PREFIXES)}
    net.load_state_dict(state, strict=True)
