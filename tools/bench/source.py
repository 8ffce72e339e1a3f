"""Probe a clip (PyAV; this ffmpeg build has no ffprobe) and cut the reference y4m.

The reference every codec encodes and every metric compares against is the first
N frames of the clip as 8-bit limited-range yuv420p y4m, cropped to even size.
Full-range (yuvj420p) sources are range-converted once here, so all codecs see the
same samples and none has to signal full range.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from .errors import BenchError
from .ffmpeg import run_ffmpeg
from .y4m import Y4M

# AVColorSpace values (libavutil/pixfmt.h) that name a matrix.
_BT709 = 1
_BT601 = {5, 6}


@dataclass
class ClipInfo:
    path: str
    name: str
    width: int
    height: int
    fps: float
    fps_exact: str
    codec: str
    pix_fmt: str
    full_range: bool
    matrix: str  # the YUV->RGB matrix the metrics use for this clip

    def as_dict(self) -> dict:
        return asdict(self)


def probe(path: Path) -> ClipInfo:
    try:
        import av
    except ImportError:
        raise BenchError("PyAV is not installed (pip install av==18.1.0)") from None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BenchError(f"{path}: no video stream")
            stream = container.streams.video[0]
            cc = stream.codec_context
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            if not rate:
                raise BenchError(f"{path}: cannot tell the frame rate")
            spc = getattr(cc, "colorspace", 2) or 2
            if spc == _BT709:
                matrix = "bt709"
            elif spc in _BT601:
                matrix = "bt601"
            else:  # unspecified: what players assume, by size
                matrix = "bt709" if cc.height >= 720 else "bt601"
            pix_fmt = cc.pix_fmt or "unknown"
            full = pix_fmt.startswith("yuvj") or getattr(cc, "color_range", 0) == 2
            return ClipInfo(path=str(path), name=path.stem, width=cc.width - cc.width % 2,
                            height=cc.height - cc.height % 2, fps=float(rate),
                            fps_exact=f"{rate.numerator}/{rate.denominator}", codec=cc.name,
                            pix_fmt=pix_fmt, full_range=bool(full), matrix=matrix)
    except BenchError:
        raise
    except Exception as exc:  # PyAV raises its own error types for unreadable files
        raise BenchError(f"{path}: cannot open as video ({exc})") from None


def cut_reference(info: ClipInfo, out: Path, max_frames: int | None) -> Y4M:
    vf = "crop=trunc(iw/2)*2:trunc(ih/2)*2,scale=out_range=tv,format=yuv420p"
    args = ["-i", info.path, "-map", "0:v:0", "-an", "-vf", vf]
    if max_frames:
        args += ["-frames:v", str(max_frames)]
    # passthrough: one output frame per decoded frame, never duplicated or dropped
    args += ["-fps_mode", "passthrough", "-f", "yuv4mpegpipe", str(out)]
    run_ffmpeg(args, f"{info.name}: cutting the reference")
    ref = Y4M(out)
    if len(ref) == 0:
        raise BenchError(f"{info.path}: no frames decoded")
    if ref.fps != Fraction(info.fps_exact):
        raise BenchError(f"{info.path}: reference y4m frame rate {ref.fps} != probed {info.fps_exact}")
    return ref
