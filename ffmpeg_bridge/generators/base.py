"""The interface every IT2V frame generator implements, and its input checks."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

#: One global similarity step (tx, ty, zoom, rotation): see ``motion.py``.
MotionStep = tuple[float, float, float, float]


class Generator(ABC):
    """Regenerates the frames strictly between two decoded keyframes.

    ``model_id`` is what the stream's model table records for the generator
    (``None`` when it needs no model); ``weights_sha256`` pins the weights.
    """

    name: str
    model_id: str | None = None
    weights_sha256: str | None = None

    def interpolate(self, frame_a: np.ndarray, frame_b: np.ndarray, n_between: int, *,
                    motion: Sequence[MotionStep] | None = None) -> list[np.ndarray]:
        """Return ``n_between`` frames at times i/(n_between+1), i = 1..n_between.

        Frames are uint8 RGB arrays of shape (H, W, 3), any H, W >= 1.
        ``motion``, when given, holds ``n_between + 1`` global similarity steps:
        step k takes frame k to frame k+1, where frame 0 is ``frame_a`` and
        frame ``n_between + 1`` is ``frame_b`` (for keyframes at segment
        offsets p < q these are the MOTN records p+1 .. q, dequantized; see
        ``motion.py`` for the convention).
        """
        check_frames(frame_a, frame_b)
        if isinstance(n_between, bool) or not isinstance(n_between, (int, np.integer)) or n_between < 0:
            raise ValueError(f"n_between must be a non-negative int, not {n_between!r}")
        steps = check_motion(motion, int(n_between))
        if n_between == 0:
            return []
        frames = self._interpolate(frame_a, frame_b, int(n_between), steps)
        assert len(frames) == n_between
        return frames

    def frame_at(self, frame_a: np.ndarray, frame_b: np.ndarray, n_between: int, index: int, *,
                 motion: Sequence[MotionStep] | None = None) -> np.ndarray:
        """In-between frame ``index`` (1 .. ``n_between``) alone, as ``interpolate``
        would place it; the encoder scores candidate keyframe spacings with one
        such frame per gap.  Generators that can make one frame for less than
        all of them override this."""
        if not 1 <= index <= n_between:
            raise ValueError(f"index must be in 1..{n_between}, not {index!r}")
        return self.interpolate(frame_a, frame_b, n_between, motion=motion)[index - 1]

    @abstractmethod
    def _interpolate(self, frame_a: np.ndarray, frame_b: np.ndarray, n_between: int,
                     motion: list[MotionStep] | None) -> list[np.ndarray]:
        """Inputs already checked; ``n_between >= 1``."""


def timesteps(n_between: int) -> list[float]:
    return [i / (n_between + 1) for i in range(1, n_between + 1)]


def check_frames(frame_a: np.ndarray, frame_b: np.ndarray) -> None:
    for label, f in (("frame_a", frame_a), ("frame_b", frame_b)):
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            desc = f"{f.dtype} {f.shape}" if isinstance(f, np.ndarray) else type(f).__name__
            raise ValueError(f"{label} must be a uint8 array of shape (H, W, 3), not {desc}")
        if f.shape[0] < 1 or f.shape[1] < 1:
            raise ValueError(f"{label} is empty: {f.shape}")
    if frame_a.shape != frame_b.shape:
        raise ValueError(f"keyframes differ in size: {frame_a.shape} vs {frame_b.shape}")


def check_motion(motion: Sequence[MotionStep] | None, n_between: int) -> list[MotionStep] | None:
    if motion is None:
        return None
    steps = [tuple(float(v) for v in step) for step in motion]
    if len(steps) != n_between + 1:
        raise ValueError(f"motion has {len(steps)} steps; {n_between} frames between two "
                         f"keyframes need {n_between + 1}")
    for k, step in enumerate(steps):
        if len(step) != 4 or not all(math.isfinite(v) for v in step) or step[2] <= 0:
            raise ValueError(f"motion step {k} must be finite (tx, ty, zoom > 0, rotation), not {step}")
    return steps  # type: ignore[return-value]
