"""RIFE frame interpolation with the IFNet of ``ifnet.py`` and pinned weights."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import weights
from .base import Generator, MotionStep, check_frames, check_motion, timesteps
from .ifnet import IFNet, load_inference_state
from .motion import cumulative, max_corner_displacement, warp_to

STRATEGIES = ("timestep", "recursive")


@contextlib.contextmanager
def _deterministic(device: torch.device):
    """Same input, same output bytes: pin the algorithm choices that could vary.

    On CPU every op used here is deterministic already; on CUDA cuDNN may
    autotune or pick non-deterministic kernels unless told otherwise.  Global
    flags are restored afterwards so other users of torch are unaffected.
    """
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]


class RifeGenerator(Generator):
    """RIFE 4.25 IFNet interpolation at arbitrary timesteps.

    strategy:
      ``"timestep"``  (default) each frame directly from the two keyframes at
                      its t (IFNet 4.x takes t as an input), so frames do not
                      depend on each other;
      ``"recursive"`` bisect: the midpoint frame is generated first and used
                      as a keyframe for both halves, down to intervals holding
                      one frame, which gets its own t.
      Timestep is the default because it measured better on coded streams:
      decoding the same CMVC streams (75% of the SVT-AV1 crf 63 rate) both
      ways, LPIPS fell on all 8 clips tried (e.g. carphone 0.1071 -> 0.1049,
      bottle-detection 0.0369 -> 0.0360, hungry 0.0660 -> 0.0650): a bisected
      midpoint carries the keyframes' coding errors plus its own into every
      frame made from it.  Those streams had gaps of 5 to 12 frames.  On
      uncoded keyframes (source frames g apart, mean LPIPS of the frames
      between) the two trade places: carphone, timestep better at g = 4 to
      32; bikes, recursive better at 8 and 32, worse at 16 and 64;
      bottle-detection, even up to 32, recursive better at 64 (0.0231 vs
      0.0260); one-by-one-person-detection, timestep better at 8 and 16.
      On coded streams with long gaps (the same streams at 25% of that rate,
      gaps of 38 to 185 frames, decoded both ways) timestep was better on
      all four clips tried: bottle-detection (48-frame gaps) 0.0640 ->
      0.0601, bikes (60) 0.4236 -> 0.4226, carphone (38) 0.2388 -> 0.2383,
      one-by-one-person-detection (185) 0.2305 -> 0.2294.  Timestep also makes
      any single frame (the encoder's estimate) in one pass, recursive in up
      to log2(gap).
    prealign: with ``motion`` given, warp both keyframes onto each target
      frame's global similarity before interpolating, so the network only
      sees the residual motion.  ``"auto"`` does so when the keyframe-to-
      keyframe transform moves a frame corner by more than
      ``prealign_threshold`` pixels; ``True`` / ``False`` force it.  Each
      pre-aligned frame comes straight from its own t (no bisection: every
      target frame has its own pair of aligned inputs).
    """

    name = "rife"

    def __init__(self, *, device: str | torch.device = "cpu", strategy: str = "timestep",
                 scale: float = 1.0, prealign: bool | str = "auto", prealign_threshold: float = 12.0,
                 weights_path: str | Path | None = None, allow_fetch: bool | None = None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
        if prealign not in (True, False, "auto"):
            raise ValueError(f"prealign must be True, False or 'auto', not {prealign!r}")
        if scale not in (0.25, 0.5, 1.0, 2.0):
            # Other values make the padded size and the block scales disagree.
            raise ValueError(f"scale must be 0.25, 0.5, 1 or 2, not {scale!r}")
        spec = weights.RIFE
        self.model_id, self.weights_sha256 = spec.model_id, spec.sha256
        self.device = torch.device(device)
        self.strategy, self.scale = strategy, float(scale)
        self.prealign, self.prealign_threshold = prealign, float(prealign_threshold)
        # Two stride-2 convolutions inside the coarsest block, which already
        # works at 1/16 of the input: sizes must be multiples of 64 (at scale 1).
        self.multiple = max(64, int(64 / self.scale))
        if weights_path is None:
            path = weights.ensure(spec.name, allow_fetch=allow_fetch)
        else:
            path = Path(weights_path)
            if not path.is_file() or weights.sha256_file(path) != spec.sha256:
                raise weights.WeightsUnavailableError(
                    f"{path} is missing or is not the {spec.model_id} weights "
                    f"(SHA-256 {spec.sha256}); pass no weights_path to use the cache, "
                    f"or fetch with: python -m ffmpeg_bridge.weights fetch {spec.name}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.net = IFNet()
        load_inference_state(self.net, state)
        self.net.eval().to(self.device)

    # -- tensors ---------------------------------------------------------------
    def _to_tensor(self, frame: np.ndarray) -> torch.Tensor:
        # torch.from_numpy shares memory and warns on read-only arrays
        # (e.g. decoder output buffers), so copy those.
        frame = np.ascontiguousarray(frame) if frame.flags.writeable else frame.copy()
        t = torch.from_numpy(frame).to(self.device)
        return t.permute(2, 0, 1).unsqueeze(0).float() / 255.0

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        # Replicate, not zeros: a black margin would look like an edge that
        # moves differently from the picture and pull the flow near borders.
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x

    @staticmethod
    def _to_frame(x: torch.Tensor, h: int, w: int) -> np.ndarray:
        x = (x[:, :h, :w] * 255.0).round().clamp(0, 255).to(torch.uint8)
        return x.permute(1, 2, 0).cpu().numpy()

    def _run(self, img0: torch.Tensor, img1: torch.Tensor, t: float) -> torch.Tensor:
        """One network pass on padded (1, 3, H, W) inputs; one frame per pass so
        that a frame's bytes depend only on its inputs and t, not on batching."""
        ts = torch.tensor([t], dtype=img0.dtype, device=img0.device)
        return self.net(img0, img1, ts, self.scale)[0].clamp(0.0, 1.0)

    # -- strategies ------------------------------------------------------------
    def _interpolate(self, frame_a, frame_b, n_between, motion: list[MotionStep] | None):
        h, w = frame_a.shape[:2]
        with _deterministic(self.device):
            a, b = self._to_tensor(frame_a), self._to_tensor(frame_b)
            if motion is not None and self._should_prealign(motion, w, h):
                outs = self._prealigned(a, b, n_between, motion)
            elif self.strategy == "recursive":
                pa, pb = self._pad(a), self._pad(b)
                outs = self._recursive(pa, 0.0, pb, 1.0, timesteps(n_between))
            else:
                pa, pb = self._pad(a), self._pad(b)
                outs = [self._run(pa, pb, t) for t in timesteps(n_between)]
            return [self._to_frame(o, h, w) for o in outs]

    def frame_at(self, frame_a, frame_b, n_between, index, *, motion=None):
        """The frame ``interpolate`` makes there, for fewer passes: one at the
        frame's own t (timestep, pre-aligned), or the bisection path down to
        it (recursive: about log2(n_between) passes instead of n_between)."""
        check_frames(frame_a, frame_b)
        if not 1 <= index <= n_between:
            raise ValueError(f"index must be in 1..{n_between}, not {index!r}")
        steps = check_motion(motion, int(n_between))
        h, w = frame_a.shape[:2]
        with _deterministic(self.device):
            a, b = self._to_tensor(frame_a), self._to_tensor(frame_b)
            if steps is not None and self._should_prealign(steps, w, h):
                out = self._prealigned(a, b, n_between, steps, only=index)[0]
            elif self.strategy == "recursive":
                ts = timesteps(n_between)
                out = self._recursive_one(self._pad(a), 0.0, self._pad(b), 1.0, ts, ts[index - 1])
            else:
                out = self._run(self._pad(a), self._pad(b), index / (n_between + 1))
            return self._to_frame(out, h, w)

    def _recursive_one(self, a, ta, b, tb, targets, want):
        """_recursive's output at ``want`` alone: the same passes on its path."""
        if len(targets) == 1:
            return self._run(a, b, (targets[0] - ta) / (tb - ta))
        tm = (ta + tb) / 2.0
        mid = self._run(a, b, 0.5)
        if abs(want - tm) <= 1e-9:
            return mid
        mid = mid.unsqueeze(0)
        if want < tm:
            return self._recursive_one(a, ta, mid, tm, [t for t in targets if t < tm - 1e-9], want)
        return self._recursive_one(mid, tm, b, tb, [t for t in targets if t > tm + 1e-9], want)

    def _recursive(self, a, ta, b, tb, targets):
        if not targets:
            return []
        if len(targets) == 1:
            return [self._run(a, b, (targets[0] - ta) / (tb - ta))]
        tm = (ta + tb) / 2.0
        mid = self._run(a, b, 0.5).unsqueeze(0)
        left = [t for t in targets if t < tm - 1e-9]
        right = [t for t in targets if t > tm + 1e-9]
        at_mid = [mid[0]] if len(left) + len(right) < len(targets) else []
        return self._recursive(a, ta, mid, tm, left) + at_mid + self._recursive(mid, tm, b, tb, right)

    def _should_prealign(self, motion, w, h) -> bool:
        if self.prealign != "auto":
            return bool(self.prealign)
        total = cumulative(motion, w, h)[-1]
        return max_corner_displacement(total, w, h) > self.prealign_threshold

    def _prealigned(self, a, b, n_between, motion, only: int | None = None):
        """Warp both keyframes into each target frame (or frame ``only``),
        interpolate the residual."""
        _, _, h, w = a.shape
        to_frame = cumulative(motion, w, h)       # frame 0 -> frame k
        to_b = to_frame[-1]
        outs = []
        for i, t in enumerate(timesteps(n_between), start=1):
            if only is not None and i != only:
                continue
            # Output pixel q of frame i shows a at inv(0->i)(q) and b at (0->b)(inv(0->i)(q)).
            back_to_a = np.linalg.inv(to_frame[i])
            a_i, a_ok = warp_to(a, back_to_a)
            b_i, b_ok = warp_to(b, to_b @ back_to_a)
            # Where only one keyframe saw the content, the other holds smeared
            # border pixels.  Give the network the seen content on both sides
            # there: it then finds no motion in that area instead of coarse
            # flow leaking the smear into the valid area next to it.
            a_in = torch.where(a_ok, a_i, b_i)
            b_in = torch.where(b_ok, b_i, a_i)
            mid = self._run(self._pad(a_in), self._pad(b_in), t)[:, :h, :w].unsqueeze(0)
            out = torch.where(a_ok & ~b_ok, a_i, torch.where(b_ok & ~a_ok, b_i, mid))
            outs.append(out[0])
        return outs
