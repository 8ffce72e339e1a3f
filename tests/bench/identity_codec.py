"""A trivial 'method' for the harness tests: the bitstream is the y4m itself.

encode/decode are Python functions, exercising the function-method interface
(tools.bench.call) exactly as a CMVC method will use it.
"""
import shutil

import numpy as np


def encode(src_y4m: str, bitstream: str) -> None:
    shutil.copyfile(src_y4m, bitstream)


def decode_to_file(bitstream: str, decoded: str) -> None:
    shutil.copyfile(bitstream, decoded)


def decode_to_rgb(bitstream: str, decoded: str) -> np.ndarray:
    """Return frames instead of writing them: mid-grey RGB of the source's size."""
    header = open(bitstream, "rb").readline().split()
    w = int(next(t for t in header if t.startswith(b"W"))[1:])
    h = int(next(t for t in header if t.startswith(b"H"))[1:])
    frames = open(bitstream, "rb").read().count(b"FRAME\n")
    return np.full((frames, h, w, 3), 128, np.uint8)
