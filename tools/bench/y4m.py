"""Minimal YUV4MPEG2 reader for 8-bit 4:2:0, the interchange format of the harness.

Every decoded output is normalised to this format, so frames can be fetched by
index with a seek, without holding a clip in memory.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import BenchError

_420_8BIT = {"420", "420jpeg", "420paldv", "420mpeg2"}
_FRAME = b"FRAME\n"


class Y4M:
    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            line = f.readline(4096)
        if not line.startswith(b"YUV4MPEG2 ") or not line.endswith(b"\n"):
            raise BenchError(f"{self.path}: not a YUV4MPEG2 file")
        self.header_len = len(line)
        tags = {t[:1]: t[1:] for t in line[10:-1].decode("ascii").split(" ") if t}
        self.width, self.height = int(tags["W"]), int(tags["H"])
        num, den = tags.get("F", "25:1").split(":")
        self.fps = Fraction(int(num), int(den))
        self.colorspace = tags.get("C", "420jpeg")
        if self.colorspace not in _420_8BIT:
            raise BenchError(f"{self.path}: y4m colorspace C{self.colorspace}, expected 8-bit 4:2:0")
        cw, ch = (self.width + 1) // 2, (self.height + 1) // 2
        self.plane_shapes = [(self.height, self.width), (ch, cw), (ch, cw)]
        self.frame_bytes = self.width * self.height + 2 * cw * ch
        payload = os.path.getsize(self.path) - self.header_len
        self.frames, rest = divmod(payload, len(_FRAME) + self.frame_bytes)
        if rest:
            raise BenchError(f"{self.path}: truncated or has frame parameters this reader does not handle")

    def __len__(self) -> int:
        return self.frames

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not 0 <= index < self.frames:
            raise IndexError(index)
        with open(self.path, "rb") as f:
            f.seek(self.header_len + index * (len(_FRAME) + self.frame_bytes))
            if f.read(len(_FRAME)) != _FRAME:
                raise BenchError(f"{self.path}: frame {index} header is not plain 'FRAME'")
            data = np.frombuffer(f.read(self.frame_bytes), dtype=np.uint8)
        planes, pos = [], 0
        for shape in self.plane_shapes:
            n = shape[0] * shape[1]
            planes.append(data[pos:pos + n].reshape(shape))
            pos += n
        return planes[0], planes[1], planes[2]

    def __iter__(self):
        for i in range(self.frames):
            yield self.frame(i)


def write_y4m(path: Path, frames, width: int, height: int, fps: Fraction) -> None:
    """Write (y, u, v) uint8 planes as 8-bit 4:2:0 y4m (used by tests and the function shim)."""
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps.numerator}:{fps.denominator} Ip A1:1 C420jpeg\n".encode())
        for y, u, v in frames:
            f.write(_FRAME)
            for p in (y, u, v):
                f.write(np.ascontiguousarray(p, dtype=np.uint8).tobytes())
