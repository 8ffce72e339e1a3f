import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "person_walk_384x216.mp4"


def cli(name: str, *args, env=None, input=None, check=False, timeout=600):
    """Run one of our CLIs as a user would (python -m, same interpreter)."""
    cmd = [sys.executable, "-m", f"ffmpeg_bridge.cli.{name}", *map(str, args)]
    e = dict(os.environ, **(env or {}))
    r = subprocess.run(cmd, capture_output=True, env=e, input=input, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{name} {args} failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return r


def make_video(path: Path, frames: list[np.ndarray], fps: int = 10, codec="libx264") -> Path:
    import av
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=fps)
        s.width, s.height = w, h
        s.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
        if codec == "libx264":
            s.options = {"crf": "18", "x264-params": "info=0"}
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path


def textured(h: int, w: int, seed: int = 0, shift: int = 0) -> np.ndarray:
    """A smooth random texture (the same for one seed), seen through a window
    moved right by ``shift`` pixels: a camera pan when shift grows."""
    rng = np.random.default_rng(seed)
    full_w = w + 256
    base = rng.integers(0, 255, (h // 8 + 2, full_w // 8 + 2, 3)).astype(np.float32)
    big = np.kron(base, np.ones((8, 8, 1)))[:h, :full_w]
    k = np.ones(9) / 9
    for ax in (0, 1):
        big = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), ax, big)
    return np.ascontiguousarray(big[:, shift:shift + w].clip(0, 255).astype(np.uint8))


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
