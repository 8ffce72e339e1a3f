"""YUV4MPEG2 output (what `cmvc-decode x.mkv -` writes for `ffmpeg -i -`).

4:2:0 with the chroma siting and colour range stated in the header, so
ffmpeg reads back exactly what the decoder produced.
"""
from __future__ import annotations

from fractions import Fraction
from typing import BinaryIO

import numpy as np

from .colors import ColorSpec, from_rgb

# Y4M colour-space tags by chroma siting (HEAD chroma_location, spec 4.2)
_SITING = {1: "420mpeg2", 2: "420jpeg", 3: "420paldv"}


class Y4MWriter:
    def __init__(self, fp: BinaryIO, width: int, height: int, fps: Fraction, colors: ColorSpec):
        self._fp = fp
        self._colors = colors
        self._size = (height, width)
        fps = Fraction(fps)
        chroma = _SITING.get(colors.chroma_location, "420jpeg")
        rng = "FULL" if colors.full_range else "LIMITED"
        header = (f"YUV4MPEG2 W{width} H{height} F{fps.numerator}:{fps.denominator} Ip A1:1 "
                  f"C{chroma} XCOLORRANGE={rng}\n")
        fp.write(header.encode("ascii"))

    def write(self, rgb: np.ndarray) -> None:
        if rgb.shape[:2] != self._size:
            raise ValueError(f"frame of {rgb.shape[1]}x{rgb.shape[0]} in a "
                             f"{self._size[1]}x{self._size[0]} Y4M stream")
        frame = from_rgb(rgb, self._colors, "yuv420p")
        parts = [b"FRAME\n"]
        for plane in frame.planes:
            a = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            parts.append(np.ascontiguousarray(a[:, :plane.width]).tobytes())
        self._fp.write(b"".join(parts))
