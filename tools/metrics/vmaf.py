"""VMAF v0.6.1 through the libvmaf filter of the imageio-ffmpeg static ffmpeg.

libvmaf's first input is the distorted video, the second the reference; both are
given as y4m of identical geometry and frame rate so frames pair up one to one.
Returns the pooled mean (the usual "VMAF" number), harmonic mean and minimum.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

MODEL = "vmaf_v0.6.1"


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # the static ffmpeg 9 build that has libvmaf

    return imageio_ffmpeg.get_ffmpeg_exe()


def vmaf(ref_y4m: Path, dist_y4m: Path, threads: int | None = None) -> dict:
    threads = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "vmaf.json"  # tempdir paths have no ':' or ',' to escape in the graph
        graph = (f"[0:v][1:v]libvmaf=model=version={MODEL}:n_threads={threads}"
                 f":log_fmt=json:log_path={log}")
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
               "-i", str(dist_y4m), "-i", str(ref_y4m), "-lavfi", graph, "-f", "null", "-"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not log.is_file():
            msg = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"ffmpeg libvmaf failed: {msg}")
        data = json.loads(log.read_text())
    pooled = data["pooled_metrics"]["vmaf"]
    return {"vmaf": pooled["mean"], "vmaf_hmean": pooled["harmonic_mean"], "vmaf_min": pooled["min"],
            "vmaf_frames": len(data.get("frames", []))}
