"""Model-free generators: exact integer arithmetic, identical on every machine.

Both ignore ``motion``: they are the baselines that define "no generation".
"""

from __future__ import annotations

import numpy as np

from .base import Generator, MotionStep


class HoldGenerator(Generator):
    """Sample-and-hold: every in-between frame is a copy of ``frame_a``."""

    name = "hold"

    def _interpolate(self, frame_a, frame_b, n_between, motion: list[MotionStep] | None):
        return [frame_a.copy() for _ in range(n_between)]


class BlendGenerator(Generator):
    """Linear cross-fade: frame i is round(((n+1-i)*a + i*b) / (n+1)).

    Integer arithmetic with round-half-up, so results do not depend on
    floating point.
    """

    name = "blend"

    def _interpolate(self, frame_a, frame_b, n_between, motion: list[MotionStep] | None):
        a = frame_a.astype(np.int64)
        b = frame_b.astype(np.int64)
        d = n_between + 1
        return [((a * (d - i) + b * i + d // 2) // d).astype(np.uint8) for i in range(1, d)]
