"""Temporal flicker: how much the decoded frame-to-frame change departs from the source's.

flicker = mean over t >= 1 and pixels of |(D_t - D_{t-1}) - (S_t - S_{t-1})| on luma,
in 8-bit code values.  0 when the decoded video changes exactly as the source does
(including a constant offset); a codec that pops at every keyframe or regenerates
texture independently per frame scores high even when per-frame quality is good.
"""
from __future__ import annotations

import numpy as np


class TemporalFlicker:
    def __init__(self):
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._sum = 0.0
        self._pairs = 0

    def add(self, ref_y: np.ndarray, dist_y: np.ndarray) -> None:
        """Feed luma planes in display order."""
        r, d = ref_y.astype(np.int16), dist_y.astype(np.int16)
        if self._prev is not None:
            pr, pd = self._prev
            self._sum += float(np.mean(np.abs((d - pd) - (r - pr))))
            self._pairs += 1
        self._prev = (r, d)

    def result(self) -> float | None:
        """None for a single-frame clip (no frame differences exist)."""
        return self._sum / self._pairs if self._pairs else None
