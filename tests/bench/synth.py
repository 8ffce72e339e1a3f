"""Test media made on the spot (ffmpeg testsrc2, integer-only numpy patterns); no ../shared."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from tools.bench.ffmpeg import base_cmd

REPO = Path(__file__).resolve().parents[2]


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(base_cmd() + list(args), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


def make_testsrc(path: Path, size: str = "176x144", frames: int = 12, rate: str = "25") -> Path:
    """ffmpeg's testsrc2 pattern (moving, coloured, textured) as 8-bit 4:2:0 y4m."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-frames:v", str(frames),
           "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(path))
    return path


def x264_roundtrip(src: Path, out: Path, crf: int) -> Path:
    bitstream = out.with_suffix(".264")
    ffmpeg("-i", str(src), "-c:v", "libx264", "-crf", str(crf), "-f", "h264", str(bitstream))
    ffmpeg("-i", str(bitstream), "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(out))
    return out


def pattern_rgb(h: int = 96, w: int = 128) -> np.ndarray:
    """Deterministic integer-only RGB test image (no transcendental functions: bit-exact everywhere)."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = (3 * xx + 5 * yy) % 256
    g = ((xx // 8 + yy // 8) % 2) * 200 + 20
    b = (xx * yy) % 256
    return np.stack([r, g, b], -1).astype(np.uint8)


def with_noise(img: np.ndarray, amplitude: int, seed: int = 1234) -> np.ndarray:
    """Uniform integer noise in [-amplitude, amplitude] (numpy PCG64: reproducible across platforms)."""
    n = np.random.default_rng(seed).integers(-amplitude, amplitude + 1, img.shape)
    return np.clip(img.astype(np.int64) + n, 0, 255).astype(np.uint8)
