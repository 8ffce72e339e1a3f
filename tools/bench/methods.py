"""Methods under test: a method is a pair of commands, encode(src) -> bitstream file and
decode(bitstream file) -> decoded frames.

The harness runs each command as a child process, so wall time and peak RSS belong
to the method alone, whatever language it is written in.  Three kinds:

* classical anchors through the imageio-ffmpeg ffmpeg, named by a small grammar
  (`x264-crf51`, `x265-qp51`, `svtav1-p8-crf63`, `vvenc-qp47`, ...);
* command methods from a JSON spec (`--method-spec`), with placeholders
  {src} {bitstream} {decoded} {width} {height} {fps} {frames} {workdir};
* Python function methods from the same spec ("encode_function": "pkg.mod:fn"),
  run in a child through tools.bench.call.  See tools/bench/README.md.

{src} is the reference clip as 8-bit yuv420p y4m; {decoded} may be written in any
format ffmpeg reads (y4m preferred) at the source size and frame count.
"""
from __future__ import annotations

import json
import math
import re
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .errors import BenchError
from .ffmpeg import base_cmd


@dataclass
class Job:
    src: Path           # reference y4m
    width: int
    height: int
    fps: Fraction
    frames: int
    workdir: Path

    def placeholders(self, **extra) -> dict[str, str]:
        return {"src": str(self.src), "width": str(self.width), "height": str(self.height),
                "fps": f"{self.fps.numerator}/{self.fps.denominator}", "frames": str(self.frames),
                "workdir": str(self.workdir), **{k: str(v) for k, v in extra.items()}}


class Method(ABC):
    name: str
    family: str          # methods of one family form one rate-quality curve
    bitstream_ext: str
    description: str = ""
    env: dict[str, str] = {}
    container_ext: str = ".mp4"

    @abstractmethod
    def encode_cmd(self, job: Job, bitstream: Path) -> list[str]: ...

    @abstractmethod
    def decode_cmd(self, job: Job, bitstream: Path, decoded: Path) -> list[str]: ...

    def container_cmd(self, job: Job, bitstream: Path, container: Path) -> list[str] | None:
        """Wrap the bitstream in a container to report container bytes; None if not applicable."""
        return None

    def params(self) -> dict:
        return {"name": self.name, "family": self.family, "description": self.description}


# --------------------------------------------------------------------------- classical anchors

@dataclass
class FFmpegAnchor(Method):
    name: str
    family: str
    codec_args: list[str]
    demuxer: str         # raw elementary stream format, muxed and demuxed with -f
    bitstream_ext: str
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def encode_cmd(self, job, bitstream):
        # -g: one intra frame per clip for every anchor, so intra-period defaults
        # (1 s for vvenc, 250 frames for x264) do not decide the comparison.
        return base_cmd() + ["-i", str(job.src), *self.codec_args_for(job), "-f", self.demuxer, str(bitstream)]

    def codec_args_for(self, job: Job) -> list[str]:
        period_s = max(1, math.ceil(job.frames / float(job.fps)))
        return [a.replace("{gop}", str(job.frames)).replace("{period_s}", str(period_s)) for a in self.codec_args]

    def decode_cmd(self, job, bitstream, decoded):
        return base_cmd() + ["-f", self.demuxer, "-i", str(bitstream), "-fps_mode", "passthrough",
                             "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(decoded)]

    def container_cmd(self, job, bitstream, container):
        rate = f"{job.fps.numerator}/{job.fps.denominator}"
        return base_cmd() + ["-framerate", rate, "-f", self.demuxer, "-i", str(bitstream),
                             "-c", "copy", "-f", "mp4", str(container)]

    def params(self):
        return {**super().params(), "ffmpeg_args": self.codec_args, "elementary_format": self.demuxer}


def _x264(crf: int) -> FFmpegAnchor:
    _check("x264 crf", crf, 0, 51)
    return FFmpegAnchor(
        f"x264-crf{crf}", "x264",
        ["-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-g", "{gop}",
         # x264 writes its settings as an SEI NAL (~0.7 kB) into the stream; drop all SEI
         # (not needed to decode) just as x265 is run with info=0.
         "-bsf:v", "filter_units=remove_types=6"],
        "h264", ".264", f"libx264 preset medium, CRF {crf}, SEI removed")


def _x265(mode: str, value: int) -> FFmpegAnchor:
    _check(f"x265 {mode}", value, 0, 51)
    return FFmpegAnchor(
        f"x265-{mode}{value}", "x265",
        ["-c:v", "libx265", "-preset", "medium", f"-{mode}", str(value), "-g", "{gop}",
         "-x265-params", "info=0:log-level=error"],  # info=0: no settings SEI in the stream
        "hevc", ".hevc", f"libx265 preset medium, {mode.upper()} {value}, info=0")


def _svtav1(preset: int, crf: int) -> FFmpegAnchor:
    _check("SVT-AV1 preset", preset, 0, 13)
    _check("SVT-AV1 crf", crf, 1, 63)
    return FFmpegAnchor(
        f"svtav1-p{preset}-crf{crf}", f"svtav1-p{preset}",
        ["-c:v", "libsvtav1", "-preset", str(preset), "-crf", str(crf), "-g", "{gop}"],
        "obu", ".obu", f"libsvtav1 preset {preset}, CRF {crf}", env={"SVT_LOG": "1"})


def _vvenc(qp: int) -> FFmpegAnchor:
    _check("libvvenc qp", qp, 0, 63)  # this ffmpeg's libvvenc accepts -qp -1..63
    return FFmpegAnchor(
        f"vvenc-qp{qp}", "vvenc",
        # libvvenc takes only 10-bit input; ffmpeg converts the 8-bit source.
        # -period is the intra period in whole seconds, covering the clip.
        ["-c:v", "libvvenc", "-preset", "medium", "-qp", str(qp), "-period", "{period_s}"],
        "vvc", ".266", f"libvvenc preset medium, QP {qp}, 10-bit internal")


@dataclass
class CMVCMethod(Method):
    """cmvc-mux at a target rate given in bits per pixel (so one name means the
    same density on every clip), decoded by cmvc-decode with a generator."""

    name: str
    family: str
    bpp: float
    generator: str = "rife"
    device: str = "cpu"
    bitstream_ext: str = ".cmvc"
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def target_kbps(self, job: Job) -> float:
        return self.bpp * job.width * job.height * float(job.fps) / 1000

    def encode_cmd(self, job, bitstream):
        return [sys.executable, "-m", "ffmpeg_bridge.cli.mux", str(job.src), str(bitstream), "-q",
                "--target-kbps", f"{self.target_kbps(job):.4f}"]

    def decode_cmd(self, job, bitstream, decoded):
        return [sys.executable, "-m", "ffmpeg_bridge.cli.decode", str(bitstream), str(decoded), "-q",
                "--generator", self.generator, "--device", self.device]

    container_ext = ".mkv"

    def container_cmd(self, job, bitstream, container):
        # The MKV cmvc-mux writes: the stream as an attachment plus the caption track.
        return [sys.executable, "-m", "ffmpeg_bridge.cli.mux", str(bitstream), str(container), "-q"]

    def params(self):
        return {**super().params(), "bpp": self.bpp, "generator": self.generator}


def _cmvc(bpp: str, generator: str | None) -> CMVCMethod:
    value = float(bpp)
    if not 0 < value < 1:
        raise BenchError(f"CMVC bpp {bpp} outside (0, 1)")
    gen = generator or "rife"
    family = "cmvc" if gen == "rife" else f"cmvc-{gen}"
    return CMVCMethod(f"cmvc-bpp{bpp}" + (f"-{generator}" if generator else ""), family, value, gen,
                      description=f"cmvc-mux --target-kbps (= {bpp} bpp), cmvc-decode --generator {gen}",
                      env=_with_repo_on_path({}))


def _check(what: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise BenchError(f"{what} {value} outside {lo}..{hi}")


_GRAMMAR = [
    (re.compile(r"x264-crf(\d+)"), lambda m: _x264(int(m[1]))),
    (re.compile(r"x265-(crf|qp)(\d+)"), lambda m: _x265(m[1], int(m[2]))),
    (re.compile(r"svtav1-p(\d+)-crf(\d+)"), lambda m: _svtav1(int(m[1]), int(m[2]))),
    (re.compile(r"vvenc-qp(\d+)"), lambda m: _vvenc(int(m[1]))),
    (re.compile(r"cmvc-bpp([0-9.]+)(?:-(rife|blend|hold))?"), lambda m: _cmvc(m[1], m[2])),
]

# The classical set of the issue: each codec at (or near) its lowest rate, VVenC also
# at the CMVC paper's low-delay anchor QPs.
CLASSICAL_METHODS = ["x264-crf51", "x265-crf51", "x265-qp51", "svtav1-p8-crf63", "svtav1-p4-crf63",
                     "vvenc-qp63", "vvenc-qp52", "vvenc-qp47", "vvenc-qp42"]
GRAMMAR_HELP = "x264-crfN, x265-crfN, x265-qpN, svtav1-pP-crfN, vvenc-qpN, cmvc-bppX[-rife|-blend|-hold]"
#: CMVC at three densities (kbps = bpp x width x height x fps / 1000).
CMVC_METHODS = ["cmvc-bpp0.001", "cmvc-bpp0.002", "cmvc-bpp0.004"]
DEFAULT_METHODS = CLASSICAL_METHODS + CMVC_METHODS


def classical(name: str) -> Method:
    for pattern, make in _GRAMMAR:
        m = pattern.fullmatch(name)
        if m:
            return make(m)
    raise BenchError(f"unknown method {name!r} (classical names: {GRAMMAR_HELP}; others via --method-spec)")


# --------------------------------------------------------------------------- external methods

@dataclass
class CommandMethod(Method):
    name: str
    family: str
    encode: list[str]
    decode: list[str]
    bitstream_ext: str = ".bin"
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def encode_cmd(self, job, bitstream):
        return [a.format(**job.placeholders(bitstream=bitstream)) for a in self.encode]

    def decode_cmd(self, job, bitstream, decoded):
        return [a.format(**job.placeholders(bitstream=bitstream, decoded=decoded)) for a in self.decode]

    def params(self):
        return {**super().params(), "encode": self.encode, "decode": self.decode}


REPO = Path(__file__).resolve().parents[2]


def _function_argv(kind: str, ref: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "tools.bench.call", kind, ref, *args]


def _with_repo_on_path(env: dict[str, str]) -> dict[str, str]:
    """The shim runs in the clip's work folder; make `tools` (and the repo's packages) importable."""
    import os

    path = env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), path) if p)}


def from_spec(entry: dict, origin: str) -> Method:
    if not isinstance(entry, dict) or "name" not in entry:
        raise BenchError(f"{origin}: each method needs at least a 'name'")
    name = entry["name"]
    common = {"name": name, "family": entry.get("family", name),
              "bitstream_ext": entry.get("bitstream_ext", ".bin"),
              "description": entry.get("description", ""), "env": dict(entry.get("env", {}))}
    if "encode_function" in entry or "decode_function" in entry:
        try:
            enc, dec = entry["encode_function"], entry["decode_function"]
        except KeyError as k:
            raise BenchError(f"{origin}: method {name!r} lacks {k.args[0]}") from None
        common["env"] = _with_repo_on_path(common["env"])
        return CommandMethod(encode=_function_argv("encode", enc, "{src}", "{bitstream}"),
                             decode=_function_argv("decode", dec, "{bitstream}", "{decoded}", "{src}"),
                             **common)
    for key in ("encode", "decode"):
        if not isinstance(entry.get(key), list) or not entry[key]:
            raise BenchError(f"{origin}: method {name!r} needs '{key}' as a non-empty argv list")
    return CommandMethod(encode=list(entry["encode"]), decode=list(entry["decode"]), **common)


def load_spec(path: Path) -> list[Method]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BenchError(f"method spec {path} not found") from None
    except json.JSONDecodeError as exc:
        raise BenchError(f"method spec {path}: invalid JSON ({exc})") from None
    entries = data.get("methods") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise BenchError(f"method spec {path}: expected a list of methods or {{'methods': [...]}}")
    return [from_spec(e, str(path)) for e in entries]
