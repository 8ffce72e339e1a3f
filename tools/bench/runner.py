"""Run every method on every clip: cut the reference, encode, measure sizes, decode, score."""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from .errors import BenchError
from .evaluate import DeepModels, evaluate_clip
from .ffmpeg import run_argv, run_ffmpeg
from .measure import Measurement, run_measured
from .methods import Job, Method
from .source import ClipInfo, cut_reference, probe
from .y4m import Y4M


@dataclass
class Settings:
    max_frames: int | None
    deep_frames: int
    vgg_frames: int
    metrics: tuple[str, ...]
    device: str
    batch: int
    threads: int
    keep_decoded: bool
    timeout_s: float | None


def packet_bytes(container: Path) -> int | None:
    """Sum of the video packet sizes in a container (PyAV), a cross-check of the bitstream size."""
    import av

    with av.open(str(container)) as c:
        if not c.streams.video:  # e.g. CMVC's MKV: the stream is an attachment
            return None
        return sum(p.size for p in c.demux(c.streams.video[0]) if p.size)


def _timing(m: Measurement, frames: int) -> dict:
    return {"wall_s": round(m.wall_s, 4), "cpu_s": round(m.cpu_s, 4),
            "fps": round(frames / m.wall_s, 3) if m.wall_s > 0 else None,
            "peak_rss_mib": round(m.peak_rss_mib, 1)}


def _as_8bit_y4m(path: Path, out: Path, ref: Y4M, what: str) -> Y4M:
    """Accept a decoder's output as is when it is already 8-bit 4:2:0 y4m, else convert it."""
    try:
        dec = Y4M(path)
    except (BenchError, KeyError, ValueError):
        run_ffmpeg(["-i", str(path), "-fps_mode", "passthrough", "-pix_fmt", "yuv420p",
                    "-f", "yuv4mpegpipe", str(out)], f"{what}: converting decoded output")
        dec = Y4M(out)
    if (dec.width, dec.height) != (ref.width, ref.height):
        raise BenchError(f"{what}: decoded size {dec.width}x{dec.height} != source {ref.width}x{ref.height}")
    if len(dec) != len(ref):
        raise BenchError(f"{what}: decoded {len(dec)} frames, source has {len(ref)}")
    return dec


def run_method(method: Method, job: Job, ref: Y4M, matrix: str, settings: Settings,
               log) -> tuple[dict, Y4M]:
    rec: dict = {**method.params()}
    wd = job.workdir
    bitstream = wd / f"{method.name}{method.bitstream_ext}"
    decoded_path = wd / f"{method.name}.decoded.y4m"
    for stale in (bitstream, decoded_path):
        stale.unlink(missing_ok=True)
    env = {**method.env, "CMVC_BENCH_MATRIX": matrix}  # for tools.bench.call's RGB output
    enc = run_measured(method.encode_cmd(job, bitstream), wd / f"{method.name}.encode.log",
                       env=env, cwd=wd, timeout_s=settings.timeout_s)
    if enc.returncode != 0 or not bitstream.is_file() or bitstream.stat().st_size == 0:
        raise BenchError(f"encode failed (exit {enc.returncode}): {enc.stderr_tail.splitlines()[-1:] or ''}")
    rec["encode"] = _timing(enc, job.frames)
    size = bitstream.stat().st_size
    bits = 8 * size
    duration = job.frames / float(job.fps)
    rec.update(bitstream_file=bitstream.name, bitstream_bytes=size,
               kbps=round(bits / duration / 1000.0, 4),
               bpp=bits / (job.width * job.height * job.frames))
    container = wd / f"{method.name}{method.container_ext}"
    cmd = method.container_cmd(job, bitstream, container)
    if cmd:
        run_argv(cmd, f"{method.name}: wrapping in a container")
        rec["container_bytes"] = container.stat().st_size
        rec["packet_bytes"] = packet_bytes(container)
    dec = run_measured(method.decode_cmd(job, bitstream, decoded_path), wd / f"{method.name}.decode.log",
                       env=env, cwd=wd, timeout_s=settings.timeout_s)
    if dec.returncode != 0 or not decoded_path.is_file():
        raise BenchError(f"decode failed (exit {dec.returncode}): {dec.stderr_tail.splitlines()[-1:] or ''}")
    rec["decode"] = _timing(dec, job.frames)
    decoded = _as_8bit_y4m(decoded_path, wd / f"{method.name}.decoded8.y4m", ref, method.name)
    log(f"  {method.name}: {size} B, {rec['kbps']:.2f} kbps, enc {enc.wall_s:.2f} s, dec {dec.wall_s:.2f} s")
    return rec, decoded


def run_clip(clip: Path, methods: list[Method], settings: Settings, workdir: Path,
             deep: DeepModels | None, log: Callable[[str], None]) -> dict:
    t0 = time.perf_counter()
    info: ClipInfo = probe(clip)
    wd = workdir / info.name
    wd.mkdir(parents=True, exist_ok=True)
    ref = cut_reference(info, wd / "reference.y4m", settings.max_frames)
    job = Job(src=ref.path, width=ref.width, height=ref.height, fps=ref.fps, frames=len(ref), workdir=wd)
    log(f"{info.name}: {ref.width}x{ref.height}, {len(ref)} frames at {float(ref.fps):.3f} fps")
    records: dict[str, dict] = {}
    decoded: dict[str, Y4M] = {}
    for method in methods:
        try:
            rec, dec = run_method(method, job, ref, info.matrix, settings, log)
            records[method.name] = rec
            decoded[method.name] = dec
        except BenchError as exc:
            log(f"  {method.name}: FAILED: {exc}")
            records[method.name] = {**method.params(), "error": str(exc)}
    t_metrics = time.perf_counter()
    scores, deep_idx, timing = evaluate_clip(ref, decoded, info.matrix, settings.metrics, deep, settings.deep_frames,
                                     settings.vgg_frames, settings.batch, settings.device, settings.threads, log)
    for name, s in scores.items():
        records[name]["metrics"] = s
    if not settings.keep_decoded:
        for p in wd.glob("*.decoded*.y4m"):
            p.unlink()
        (wd / "reference.y4m").unlink(missing_ok=True)
    return {**info.as_dict(), "frames": len(ref), "fps_reference": str(Fraction(ref.fps)),
            "learned_metric_frames": deep_idx, "metrics_wall_s": round(time.perf_counter() - t_metrics, 2),
            "metrics_timing": timing,
            "wall_s": round(time.perf_counter() - t0, 2), "methods": list(records.values())}
