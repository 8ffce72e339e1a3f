"""Child-process shim that lets a Python function act as a method's encode or decode.

    python -m tools.bench.call encode pkg.mod:fn SRC_Y4M BITSTREAM
        calls fn(src_y4m_path, bitstream_path); fn writes the bitstream file.
    python -m tools.bench.call decode pkg.mod:fn BITSTREAM DECODED SRC_Y4M
        calls fn(bitstream_path, decoded_path).  fn either writes DECODED itself
        (any format ffmpeg reads) or returns uint8 RGB frames (T, H, W, 3), which are
        written as yuv420p y4m with the matrix the harness uses for this clip
        (env CMVC_BENCH_MATRIX), so RGB round-trips as the metrics expect.

Running in a child keeps the function's time and peak memory separate from the harness.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys

import numpy as np


def _resolve(ref: str):
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise SystemExit(f"error: function reference {ref!r} must look like package.module:function")
    return getattr(importlib.import_module(module), attr)


def _write_rgb(frames: np.ndarray, decoded: str, src_y4m: str) -> None:
    from .ffmpeg import base_cmd
    from .y4m import Y4M

    src = Y4M(src_y4m)
    arr = np.ascontiguousarray(frames, dtype=np.uint8)
    if arr.ndim != 4 or arr.shape[1:] != (src.height, src.width, 3):
        raise SystemExit(f"error: decode returned shape {arr.shape}, expected (T, {src.height}, {src.width}, 3)")
    matrix = os.environ.get("CMVC_BENCH_MATRIX", "bt601")
    cmd = base_cmd() + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{src.width}x{src.height}",
                        "-r", f"{src.fps.numerator}/{src.fps.denominator}", "-i", "-",
                        "-vf", f"scale=out_color_matrix={matrix}:out_range=tv,format=yuv420p",
                        "-f", "yuv4mpegpipe", decoded]
    subprocess.run(cmd, input=arr.tobytes(), check=True)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[0] not in ("encode", "decode"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, ref, *paths = argv
    fn = _resolve(ref)
    if kind == "encode":
        fn(paths[0], paths[1])
        return 0
    out = fn(paths[0], paths[1])
    if out is not None:
        _write_rgb(np.asarray(out), paths[1], paths[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
