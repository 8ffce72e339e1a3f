"""Resizing RGB frames (keyframes coded below the stream's size), bit-exact."""
from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

# Area averaging to shrink (no aliasing), bicubic to enlarge; BITEXACT so
# every machine produces the same pixels.
_DOWN = Interpolation.AREA | Interpolation.ACCURATE_RND | Interpolation.BITEXACT
_UP = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.BITEXACT


def resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    flags = _DOWN if width * height < w * h else _UP
    out = VideoReformatter().reformat(frame, width=width, height=height, format="rgb24",
                                      interpolation=flags, threads=1)
    return out.to_ndarray()
