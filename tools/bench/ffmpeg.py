"""The ffmpeg binary of imageio-ffmpeg (static ffmpeg 9: libx264, libx265, libsvtav1, libvvenc, libvmaf)."""
from __future__ import annotations

import functools
import subprocess

from .errors import BenchError


@functools.cache
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise BenchError("imageio-ffmpeg is not installed (pip install imageio-ffmpeg==0.8.1)") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def base_cmd() -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


def run_ffmpeg(args: list[str], what: str) -> None:
    run_argv(base_cmd() + args, what)


def run_argv(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise BenchError(f"{what}: ffmpeg failed: {msg}")
