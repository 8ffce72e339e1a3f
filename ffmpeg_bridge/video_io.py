"""Reading any video PyAV opens into uint8 RGB frames, and writing frames out.

Variable frame rate input is mapped onto a constant rate (the stream's
average rate): output frame n shows the last input frame presented at or
before n / fps, so the duration is kept and no timestamp is invented.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

import av
import numpy as np

from cmvc_format import Limits

from .colors import ColorSpec, from_rgb, spec_from_frame, to_rgb


class InputError(Exception):
    """The input cannot be used (missing, not a video, no frames, absurd size)."""


@dataclass
class Clip:
    frames: list[np.ndarray]          # uint8 RGB (H, W, 3), constant frame rate
    fps: Fraction
    time_base: Fraction
    colors: ColorSpec
    source: str = ""
    vfr_mapped: bool = False          # input timestamps were resampled
    dropped: int = 0                  # input frames dropped / duplicated by that mapping
    duplicated: int = 0
    info: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return self.frames[0].shape[1]

    @property
    def height(self) -> int:
        return self.frames[0].shape[0]

    @property
    def duration(self) -> float:
        return len(self.frames) / float(self.fps)


def progress(total: int | None, desc: str, quiet: bool):
    from tqdm import tqdm
    # Progress only where a person watches: not when stderr is a log or a pipe.
    return tqdm(total=total, desc=desc, unit="frame", file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(),
                leave=False, dynamic_ncols=True)


def open_input(path: str):
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory")
    try:
        container = av.open(path, "r")
    except av.error.EOFError:
        # FFmpeg probes the first packets to open a file: a container whose
        # video track has no frames ends during that probe.
        raise InputError(f"{path}: the video has no frames (the file ends before the first)") from None
    except av.error.FFmpegError as exc:
        raise InputError(f"{path}: not a video file PyAV/FFmpeg can open ({exc.strerror or exc})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream")
    return container


def read_video(path: str, *, max_frames: int | None = None, quiet: bool = True) -> Clip:
    """All frames of the first video stream as RGB at a constant frame rate."""
    container = open_input(path)
    with container:
        stream = container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        if w and h and (w > 65535 or h > 65535 or w * h > Limits.PIXELS):
            raise InputError(f"{path}: {w}x{h} is larger than CMVC supports "
                             f"(width, height <= 65535, width x height <= {Limits.PIXELS})")
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        fps = Fraction(rate).limit_denominator(1001 * 1000)
        total = stream.frames or None
        frames: list[np.ndarray] = []
        times: list[float | None] = []
        colors = None
        try:
            with progress(total, "read", quiet) as bar:
                for frame in container.decode(stream):
                    if colors is None:
                        colors = spec_from_frame(frame)
                        if frame.width * frame.height > Limits.PIXELS:
                            raise InputError(f"{path}: {frame.width}x{frame.height} is too large")
                    frames.append(to_rgb(frame, colors))
                    times.append(float(frame.time) if frame.time is not None else None)
                    bar.update(1)
                    if max_frames is not None and len(frames) >= max_frames:
                        break
        except av.error.FFmpegError as exc:
            if not frames:
                raise InputError(f"{path}: cannot decode video ({exc.strerror or exc})") from None
            # A damaged tail: keep what decoded (as players do) and say so.
            print(f"warning: {path}: decoding stopped after {len(frames)} frames: {exc}",
                  file=sys.stderr)
        if not frames:
            raise InputError(f"{path}: the video has no frames")
        if any(f.shape != frames[0].shape for f in frames):
            raise InputError(f"{path}: the frame size changes mid-stream; not supported")
        clip = Clip(frames=frames, fps=fps, time_base=Fraction(1, 1) / fps,
                    colors=colors or ColorSpec(), source=path,
                    info={"codec": stream.codec_context.name, "input_frames": len(frames)})
    _map_to_constant_rate(clip, times)
    return clip


def _map_to_constant_rate(clip: Clip, times: list[float | None]) -> None:
    if len(times) < 2 or any(t is None for t in times):
        return
    t0 = times[0]
    rel = [t - t0 for t in times]
    period = 1 / float(clip.fps)
    if all(abs(t - i * period) < period / 2 for i, t in enumerate(rel)):
        return  # already constant rate (within half a frame)
    n_out = max(1, round((rel[-1] + period) / period))
    out, j = [], 0
    for n in range(n_out):
        target = n * period + period / 2
        while j + 1 < len(rel) and rel[j + 1] <= target:
            j += 1
        out.append(clip.frames[j])
    used = len({id(f) for f in out})
    clip.dropped = len(clip.frames) - used
    clip.duplicated = len(out) - used
    clip.frames = out
    clip.vfr_mapped = True


# --- writing --------------------------------------------------------------------

def write_video(frames: Iterable[np.ndarray], path: str, *, fps: Fraction, colors: ColorSpec,
                width: int, height: int, quiet: bool = True, total: int | None = None) -> int:
    """Encode frames into a file through PyAV (format from the extension:
    .y4m raw, .mkv/.mp4/.mov/.webm with x264 or SVT-AV1). Written to a
    temporary name and renamed, so a failure leaves nothing behind."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".y4m":
        from .y4m import Y4MWriter
        tmp = _tmp_name(path)
        try:
            with open(tmp, "wb") as fp:
                writer = Y4MWriter(fp, width, height, fps, colors)
                n = 0
                for f in frames:
                    writer.write(f)
                    n += 1
            os.replace(tmp, path)
        finally:
            _remove(tmp)
        return n
    formats = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
    if ext not in formats:
        raise InputError(f"{path}: unknown output type {ext or '(none)'}; use .y4m, .mkv, .mp4, "
                         f".mov, .webm, or - for Y4M on stdout")
    tmp = _tmp_name(path)
    n = 0
    try:
        with av.open(tmp, "w", format=formats[ext]) as out:
            codec = "libsvtav1" if ext == ".webm" else "libx264"
            s = out.add_stream(codec, rate=fps)
            s.width, s.height = width, height
            even = width % 2 == 0 and height % 2 == 0
            s.pix_fmt = "yuv420p" if even or codec != "libx264" else "yuv444p"
            s.options = {"crf": "17", "preset": "medium"} if codec == "libx264" else {"crf": "30"}
            s.codec_context.color_range = 2 if colors.full_range else 1
            s.codec_context.colorspace = colors.matrix
            s.codec_context.color_primaries = colors.primaries
            s.codec_context.color_trc = colors.transfer
            with progress(total, "write", quiet) as bar:
                for f in frames:
                    vf = from_rgb(_even(f) if s.pix_fmt == "yuv420p" and not even else f, colors,
                                  s.pix_fmt)
                    vf.pts = n
                    for pkt in s.encode(vf):
                        out.mux(pkt)
                    n += 1
                    bar.update(1)
            for pkt in s.encode(None):
                out.mux(pkt)
        os.replace(tmp, path)
    finally:
        _remove(tmp)
    return n


def _even(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    return np.pad(f, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _tmp_name(path: str) -> str:
    d, b = os.path.split(os.path.abspath(path))
    return os.path.join(d, f".{b}.tmp-{os.getpid()}{os.path.splitext(b)[1]}")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
