#!/usr/bin/env python3
"""Rate-distortion benchmark of still-image (keyframe) codecs on Kodak.

    python tools/bench_keyframe_codec.py [--images DIR] [--limit N]
        [--methods avif,webp,jpeg,cmvc-lic,av1-intra,av1-lr-intra] [--metrics psnr,msssim,lpips,dists]
        [--settings CODEC=V,V,...] [--out tools/results/keyframe-codec] [--bar]

Each codec codes every image at a sweep of quality settings (chosen to span
roughly 0.01-0.25 bpp on Kodak where the codec can reach it); every decoded
image is scored against the PNG it came from.  Writes results.json (per-image
rows, per-setting means, BD tables, the bar, environment), summary.md and rd.png.

What is counted and measured (the choices other benchmarks make differently):

* bpp = payload bytes * 8 / (W * H), payload = the coded image a decoder needs,
  without container or metadata:
  - avif: SVT-AV1 (PyAV ``libsvtav1``, preset 4, ``avif=1`` still-picture mode),
    8-bit 4:2:0, BT.601 matrix, full range (libavif's default for RGB input);
    the OBUs an AVIF ``mdat`` holds (sequence header + frame), temporal
    delimiters dropped.  Decoded with dav1d.  The RGB<->YUV conversions are
    ffmpeg_bridge.colors' (swscale, bit-exact) and their loss counts against AVIF.
    Sizes are padded to a multiple of 8 like the repo's AV1 keyframes (Kodak
    needs none).  The repo's AV1 *track* encoder is not reused: AVIF is the
    anchor the issue names, and still-picture mode is what AVIF files use.
  - webp: Pillow (libwebp), lossy, method=6; the VP8 chunk (RIFF header dropped).
  - jpeg: Pillow (libjpeg), optimize=True, 4:2:0; the codestream without the
    JFIF APP0 segment.
  - cmvc-lic: whatever ``codec.encode`` returns.
  - av1-intra: the repo's keyframe codec 0x0002 coding each picture alone
    (ffmpeg_bridge.keyframe_codecs, SVT-AV1 preset 4, still-picture mode,
    crf to 70 in SVT-AV1's own parameter), colours as avif's: the payload,
    temporal delimiter included (2 bytes); at crf <= 63 the same coded
    picture as avif's.
  - av1-lr-intra: the same AV1 payload plus the 7-byte header of codec 0x0004
    (counted), decoded through the learned restoration network.
* PSNR: RGB, 8-bit, MSE over all three channels; the mean over images is the mean
  of per-image PSNR (dB), as Kodak results are usually reported.
* MS-SSIM: on RGB, the mean of the three per-channel MS-SSIMs (what pytorch_msssim
  and CompressAI report), with tools/metrics/msssim.py's luma implementation.
* LPIPS (AlexNet, v0.1) and DISTS: tools/metrics; lower is better.
* Time: wall clock per encode and per decode, after one untimed warm-up call per codec.

BD-rate (tools/metrics/bdrate.py, PCHIP) of every codec against avif, on the
per-setting means; LPIPS and DISTS enter negated.  "le_0.05": both curves clipped to
bpp <= 0.05 -- the measured points up to 0.05 plus, when the curve goes on above,
the point at exactly 0.05 bpp interpolated on the full curve (PCHIP of quality
over log bpp) so that the region is covered up to its edge; a curve with fewer
than two measured points <= 0.05 gives None.  "PSNR gap at equal bpp": for each
test point with bpp <= 0.05 inside avif's measured bpp range, its PSNR minus
avif's PSNR interpolated (PCHIP over log bpp) at that bpp; the mean of those.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `tools`, `ffmpeg_bridge` importable
    sys.path.insert(0, str(ROOT))

KODAK_REL = Path("shared/media/images/kodak")
DEFAULT_OUT = ROOT / "tools" / "results" / "keyframe-codec"
ANCHOR = "avif"
LOW_BPP = 0.05
METRICS = ("psnr", "msssim", "lpips", "dists")
LOWER_IS_BETTER = {"lpips", "dists"}
METRIC_LABELS = {"psnr": "PSNR RGB (dB)", "msssim": "MS-SSIM (RGB)", "lpips": "LPIPS-Alex", "dists": "DISTS"}
# The bar at low rate, judged for each of these that ran (the first always).
BAR_CODECS = ("cmvc-lic", "av1-lr-intra")
BAR_LPIPS_BD = -20.0  # percent, BD-rate on LPIPS at <= LOW_BPP
BAR_PSNR_GAP = -1.0   # dB, PSNR at equal bpp <= LOW_BPP
BAR_SECONDS = 1.0     # encode + decode of a 768x512 image
BAR_PIXELS = 768 * 512


class UsageError(Exception):
    """Bad arguments or inputs: one line on stderr, exit status 2."""


def log(msg: str) -> None:
    print(f"[kfbench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- codecs

class StillCodec:
    """One codec: settings are listed from the lowest quality to the highest."""

    name: str
    setting_name: str
    default_settings: tuple[int, ...]

    def config(self) -> dict:
        return {}

    def encode(self, rgb: np.ndarray, setting: int) -> bytes:
        raise NotImplementedError

    def decode(self, payload: bytes, height: int, width: int) -> np.ndarray:
        raise NotImplementedError


def _pillow_decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.array(im.convert("RGB"))


class JpegCodec(StillCodec):
    name, setting_name = "jpeg", "quality"
    # libjpeg clamps its tables at 255 below quality ~4, so 1..3 code alike.
    default_settings = (1, 4, 6, 8, 10, 13, 16, 20, 25, 30)

    def config(self):
        from PIL import features
        return {"library": f"Pillow / libjpeg {features.version('jpg')}", "optimize": True,
                "subsampling": "4:2:0", "payload": "JPEG codestream without the JFIF APP0 segment"}

    def encode(self, rgb, setting):
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=setting, optimize=True, subsampling=2)
        return _strip_jfif(buf.getvalue())

    def decode(self, payload, height, width):
        return _pillow_decode(payload)


def _strip_jfif(data: bytes) -> bytes:
    """Drop the APP0 (JFIF) segment that follows SOI: metadata, not image data."""
    if data[:4] != b"\xff\xd8\xff\xe0":
        return data
    seg_len = int.from_bytes(data[4:6], "big")
    return data[:2] + data[4 + seg_len:]


class WebpCodec(StillCodec):
    name, setting_name = "webp", "quality"
    default_settings = (0, 2, 5, 10, 20, 30, 45, 60)

    def config(self):
        from PIL import features
        return {"library": f"Pillow / libwebp {features.version('webp')}", "lossy": True, "method": 6,
                "payload": "VP8 chunk data (RIFF/WEBP header dropped)"}

    def encode(self, rgb, setting):
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "WEBP", quality=setting, method=6)
        data = buf.getvalue()
        vp8 = _webp_vp8(data)
        if _riff_wrap(vp8) != data:  # the file must be exactly the header + VP8 chunk
            raise RuntimeError("WebP file holds more than a single VP8 chunk")
        return vp8

    def decode(self, payload, height, width):
        return _pillow_decode(_riff_wrap(payload))


def _webp_vp8(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:16] != b"WEBPVP8 ":
        raise RuntimeError(f"not a simple lossy WebP file (starts {data[:16]!r})")
    size = int.from_bytes(data[16:20], "little")
    return data[20:20 + size]


def _riff_wrap(vp8: bytes) -> bytes:
    pad = b"\0" * (len(vp8) % 2)  # RIFF chunks are padded to even sizes
    body = b"WEBPVP8 " + len(vp8).to_bytes(4, "little") + vp8 + pad
    return b"RIFF" + len(body).to_bytes(4, "little") + body


# OBU types an AVIF item does not carry (AV1 spec 6.2.2): temporal delimiter, padding.
_OBU_TEMPORAL_DELIMITER, _OBU_PADDING = 2, 15


def av1_obus(data: bytes):
    """(obu_type, obu bytes) of a low-overhead-format AV1 temporal unit (AV1 spec 5.3)."""
    i = 0
    while i < len(data):
        header = data[i]
        obu_type = (header >> 3) & 0xF
        j = i + 1 + ((header >> 2) & 1)  # optional extension byte
        if not (header >> 1) & 1:  # no obu_size: the OBU runs to the end
            yield obu_type, data[i:]
            return
        size, shift = 0, 0
        while True:  # leb128
            byte = data[j]
            j += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if j + size > len(data):
            raise RuntimeError("truncated AV1 OBU")
        yield obu_type, data[i:j + size]
        i = j + size


class AvifCodec(StillCodec):
    name, setting_name = "avif", "crf"
    # Dense at the top: crf 63 is already AV1's largest quantizer (~0.02-0.03 bpp on
    # Kodak), and the <= 0.05 bpp BD-rate needs several points there.
    default_settings = (63, 62, 61, 60, 58, 56, 53, 50, 46, 42)
    preset = 4

    def __init__(self):
        from ffmpeg_bridge.colors import ColorSpec

        # BT.601 matrix, full range, sRGB transfer, BT.709 primaries: libavif's choice for RGB input.
        self.colors = ColorSpec(matrix=6, primaries=1, transfer=13, range=2)

    def config(self):
        import av
        return {"encoder": "libsvtav1 via PyAV", "preset": self.preset, "svtav1-params": "avif=1",
                "pix_fmt": "yuv420p (8-bit)", "color": "BT.601 matrix, full range, swscale bit-exact",
                "decoder": "libdav1d via PyAV", "pyav": av.__version__,
                "payload": "AV1 OBUs without temporal delimiters (what an AVIF mdat holds)"}

    def encode(self, rgb, setting):
        import av
        from ffmpeg_bridge.colors import from_rgb
        from ffmpeg_bridge.keyframe_codecs.av1 import _pad  # also quiets SVT-AV1's log

        padded = _pad(rgb)
        ctx = av.CodecContext.create("libsvtav1", "w")
        ctx.height, ctx.width = padded.shape[:2]
        ctx.pix_fmt = "yuv420p"
        ctx.time_base, ctx.framerate = Fraction(1, 25), Fraction(25)
        ctx.color_range = 2
        ctx.colorspace = self.colors.matrix
        ctx.color_primaries = self.colors.primaries
        ctx.color_trc = self.colors.transfer
        # avif=1: SVT-AV1's still-picture mode (one frame, no GOP machinery); ~1 % smaller
        # than the default configuration and it reaches lower rates at crf 63.
        ctx.options = {"crf": str(setting), "preset": str(self.preset), "svtav1-params": "avif=1"}
        ctx.open()
        packets = ctx.encode(from_rgb(padded, self.colors, "yuv420p")) + ctx.encode(None)
        if len(packets) != 1:
            raise RuntimeError(f"SVT-AV1 returned {len(packets)} packets for one picture")
        drop = (_OBU_TEMPORAL_DELIMITER, _OBU_PADDING)
        return b"".join(obu for kind, obu in av1_obus(bytes(packets[0])) if kind not in drop)

    def decode(self, payload, height, width):
        import av
        from ffmpeg_bridge.colors import to_rgb

        ctx = av.CodecContext.create("libdav1d", "r")
        frames = ctx.decode(av.Packet(payload)) + ctx.decode(None)
        if len(frames) != 1:
            raise RuntimeError(f"dav1d returned {len(frames)} pictures, not 1")
        return np.ascontiguousarray(to_rgb(frames[0], self.colors)[:height, :width])


class LicCodec(StillCodec):
    """cmvc_format.lic: the learned keyframe codec (quality levels 0..n_quality-1)."""

    name, setting_name = "cmvc-lic", "quality"

    def __init__(self):
        from cmvc_format.lic.codec import load_codec

        self.codec = load_codec()
        self.default_settings = tuple(range(int(self.codec.n_quality)))

    def config(self):
        import torch
        # precision and weights decide the timings and the curve: recorded, as
        # the default precision follows the CPU (codec._native_precision)
        return {"module": "cmvc_format.lic.codec.load_codec()", "n_quality": len(self.default_settings),
                "torch_threads": torch.get_num_threads(), "precision": self.codec.precision,
                "weights": f"lic-{self.codec.lic_sha256[:8]}", "transform": self.codec.taef2_name}

    def encode(self, rgb, setting):
        return bytes(self.codec.encode(rgb, quality=setting))

    def decode(self, payload, height, width):
        return np.asarray(self.codec.decode(payload))


class Av1KeyframeCodec(StillCodec):
    """The repo's av1-intra keyframe codec (ffmpeg_bridge.keyframe_codecs:
    SVT-AV1 still-picture mode, preset 4), colours as avif's."""

    name, setting_name = "av1-intra", "crf"
    # SVT-AV1 4.x goes on past 63 (quarter steps to 70, the keyframe
    # encoder's range): crf 70 is ~0.007 bpp on Kodak, avif's 63 ~0.02.
    default_settings = (70, 68, 66, 64) + AvifCodec.default_settings
    track = "av1-intra"

    def __init__(self):
        from ffmpeg_bridge.colors import ColorSpec
        self.colors = ColorSpec(matrix=6, primaries=1, transfer=13, range=2)

    def config(self):
        from ffmpeg_bridge.keyframe_codecs import av1
        config = {"module": f"ffmpeg_bridge.keyframe_codecs.make_encoder({self.track!r})",
                  "preset": av1.FINAL_PRESET, "svtav1-params": av1.STILL_PARAMS,
                  "color": "BT.601 matrix, full range (as avif)"}
        if self.track == "av1-lr-intra":
            import torch

            from cmvc_format.restoration.model import load_restoration
            net = load_restoration()
            config.update(weights=net.name, precision=net.precision, torch_threads=torch.get_num_threads())
        return config

    def encode(self, rgb, setting):
        from ffmpeg_bridge.keyframe_codecs import make_encoder
        h, w = rgb.shape[:2]
        return make_encoder(self.track, w, h, self.colors, setting).encode(rgb, random_access=True)

    def decode(self, payload, height, width):
        from cmvc_format import Codec, KeyframePayload
        from ffmpeg_bridge.keyframe_codecs import make_decoder
        codec = Codec.AV1_LR if self.track == "av1-lr-intra" else Codec.AV1
        return make_decoder(codec, self.colors).decode(KeyframePayload(0, codec, width, height, payload))


class Av1LrCodec(Av1KeyframeCodec):
    """av1-intra plus the learned restoration network (keyframe codec
    0x0004); bpp counts its 7-byte payload header."""

    name = track = "av1-lr-intra"


CODECS = {"avif": AvifCodec, "webp": WebpCodec, "jpeg": JpegCodec, "cmvc-lic": LicCodec,
          "av1-intra": Av1KeyframeCodec, "av1-lr-intra": Av1LrCodec}


@dataclass
class Coded:
    codec: str
    setting: int
    nbytes: int
    encode_s: float
    decode_s: float
    decoded: np.ndarray


def code_once(codec: StillCodec, rgb: np.ndarray, setting: int) -> Coded:
    h, w = rgb.shape[:2]
    t0 = time.perf_counter()
    payload = codec.encode(rgb, setting)
    t1 = time.perf_counter()
    decoded = codec.decode(payload, h, w)
    t2 = time.perf_counter()
    if decoded.shape != rgb.shape or decoded.dtype != np.uint8:
        raise RuntimeError(f"decoded {decoded.dtype} {decoded.shape}, expected uint8 {rgb.shape}")
    return Coded(codec.name, setting, len(payload), t1 - t0, t2 - t1, decoded)


# ---------------------------------------------------------------- metrics

class Scorer:
    """The requested metrics of decoded images against their reference; networks load once."""

    def __init__(self, names: list[str]):
        self.names = names
        self.nets = {}
        if "lpips" in names:
            from ffmpeg_bridge.perceptual.lpips import LPIPS
            self.nets["lpips"] = LPIPS(net="alex")
        if "dists" in names:
            from tools.metrics.dists import DISTS
            self.nets["dists"] = DISTS()

    def score(self, ref: np.ndarray, decoded: list[np.ndarray]) -> list[dict]:
        out = [{} for _ in decoded]
        if "psnr" in self.names:
            from tools.metrics.psnr import mse, psnr_from_mse
            for row, d in zip(out, decoded):
                row["psnr"] = psnr_from_mse(mse(ref, d))
        if "msssim" in self.names:
            for row, d in zip(out, decoded):
                row["msssim"] = msssim_rgb(ref, d)
        for name, net in self.nets.items():  # reference features are computed once per image
            for row, value in zip(out, net.compare(ref, decoded, batch=2)):
                row[name] = float(value)
        return out


def msssim_rgb(ref: np.ndarray, dist: np.ndarray) -> float:
    """Mean of the per-channel MS-SSIMs: the channels go through as a batch of planes."""
    from tools.metrics.msssim import ms_ssim_luma

    planes = lambda rgb: np.moveaxis(rgb, -1, 0)  # noqa: E731  (H, W, 3) -> (3, H, W)
    return float(np.mean(ms_ssim_luma(planes(ref), planes(dist))))


# ---------------------------------------------------------------- RD analysis

def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def setting_means(rows: list[dict], codec: str, settings: tuple[int, ...], metrics: list[str]) -> list[dict]:
    """Per setting (lowest quality first): mean bpp, metrics and times over the images."""
    means = []
    for s in settings:
        sel = [r for r in rows if r["codec"] == codec and r["setting"] == s]
        if not sel:
            continue
        m = {"codec": codec, "setting": s, "n_images": len(sel)}
        for key in ["bpp", *metrics, "encode_s", "decode_s"]:
            vals = [r[key] for r in sel]
            m[key] = float(np.mean(vals)) if all(_finite(v) for v in vals) else None
        means.append(m)
    return means


def rd_curve(means: list[dict], metric: str) -> tuple[list[float], list[float]]:
    """(bpp, quality) sorted by bpp, quality negated for lower-is-better metrics; points
    with the same mean bpp as an earlier one are dropped (the interpolation needs distinct
    abscissae, and equal sizes mean the codec coded alike)."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    pts, seen = [], set()
    for m in sorted(means, key=lambda m: m["bpp"]):
        if _finite(m.get(metric)) and m["bpp"] > 0 and m["bpp"] not in seen:
            seen.add(m["bpp"])
            pts.append((m["bpp"], sign * m[metric]))
    return [p[0] for p in pts], [p[1] for p in pts]


def clip_curve(rates: list[float], quals: list[float], max_bpp: float):
    """The curve restricted to bpp <= max_bpp, closed at max_bpp by interpolation (see the
    module docstring); None with fewer than two measured points in the region."""
    from tools.metrics.bdrate import Pchip

    keep = [(r, q) for r, q in zip(rates, quals) if r <= max_bpp]
    if len(keep) < 2:
        return None
    if rates[-1] > max_bpp and keep[-1][0] < max_bpp:
        edge = Pchip(np.log(rates), quals)(math.log(max_bpp))
        keep.append((max_bpp, edge))
    return [p[0] for p in keep], [p[1] for p in keep]


def safe_bd_rate(anchor, test) -> tuple[float | None, str | None]:
    """BD-rate in percent and, when there is none, why."""
    from tools.metrics.bdrate import bd_rate

    if anchor is None or test is None:
        return None, f"fewer than 2 points at <= {LOW_BPP} bpp"
    if len(anchor[0]) < 2 or len(test[0]) < 2:
        return None, "fewer than 2 RD points"
    try:
        value = bd_rate(anchor[0], anchor[1], test[0], test[1])
    except ValueError as exc:  # e.g. two settings with the same quality
        return None, str(exc)
    return value, None if value is not None else "quality ranges do not overlap"


def bd_table(means: dict[str, list[dict]], metrics: list[str]) -> dict:
    """codec -> metric -> {full, le_0.05} BD-rate vs the anchor (percent, None if undefined)."""
    table = {}
    for codec, pts in means.items():
        if codec == ANCHOR:
            continue
        table[codec] = {}
        for metric in metrics:
            a, t = rd_curve(means[ANCHOR], metric), rd_curve(pts, metric)
            full, full_why = safe_bd_rate(a, t)
            low, low_why = safe_bd_rate(clip_curve(*a, LOW_BPP), clip_curve(*t, LOW_BPP))
            entry = {"full": full, f"le_{LOW_BPP}": low}
            notes = {k: w for k, w in (("full", full_why), (f"le_{LOW_BPP}", low_why)) if w}
            if notes:
                entry["why_none"] = notes
            table[codec][metric] = entry
    return table


def psnr_gap(anchor_means: list[dict], test_means: list[dict]) -> dict:
    """Mean PSNR difference at the test codec's own bpp points (<= LOW_BPP, inside the
    anchor's measured range), the anchor interpolated by PCHIP over log bpp."""
    from tools.metrics.bdrate import Pchip

    ar, aq = rd_curve(anchor_means, "psnr")
    tr, tq = rd_curve(test_means, "psnr")
    if len(ar) < 2:
        return {"mean_db": None, "points": [], "why_none": "anchor has fewer than 2 PSNR points"}
    anchor = Pchip(np.log(ar), aq)
    points = [{"bpp": r, "gap_db": q - anchor(math.log(r))}
              for r, q in zip(tr, tq) if ar[0] <= r <= ar[-1] and r <= LOW_BPP]
    if not points:
        return {"mean_db": None, "points": [],
                "why_none": f"no point <= {LOW_BPP} bpp within avif's {ar[0]:.4f}-{ar[-1]:.4f} bpp"}
    return {"mean_db": float(np.mean([p["gap_db"] for p in points])), "points": points}


def bar_block(means: dict, bd: dict, gaps: dict, rows: list[dict], status: dict,
              codec: str = BAR_CODECS[0]) -> dict:
    """The issue's bar for one codec; a criterion that cannot be evaluated has met = None."""
    lp = bd.get(codec, {}).get("lpips", {}).get(f"le_{LOW_BPP}")
    gap = gaps.get(codec, {}).get("mean_db")
    seconds = coding_seconds(rows, codec)
    criteria = [
        {"name": "lpips_bd_rate_le_0.05", "value": lp, "threshold": BAR_LPIPS_BD,
         "description": f"BD-rate on LPIPS-Alex at <= {LOW_BPP} bpp vs {ANCHOR} <= {BAR_LPIPS_BD:+.0f} %",
         "met": None if lp is None else lp <= BAR_LPIPS_BD},
        {"name": "psnr_gap_le_0.05", "value": gap, "threshold": BAR_PSNR_GAP,
         "description": f"PSNR at equal bpp (<= {LOW_BPP}) no more than {-BAR_PSNR_GAP:.1f} dB below {ANCHOR}",
         "met": None if gap is None else gap >= BAR_PSNR_GAP},
        {"name": "encode_decode_s", "value": seconds, "threshold": BAR_SECONDS,
         "description": f"encode+decode of a 768x512 image <= {BAR_SECONDS:g} s (worst quality level's mean)",
         "met": None if seconds is None else seconds <= BAR_SECONDS},
    ]
    verdicts = [c["met"] for c in criteria]
    bar = {"codec": codec, "anchor": ANCHOR, "met": None if None in verdicts else all(verdicts),
           "criteria": criteria}
    if codec not in means:
        bar["note"] = f"{codec} not run: {status.get(codec, {}).get('error', 'not in --methods')}"
    elif ANCHOR not in means:
        bar["note"] = f"{ANCHOR} (the anchor) not run"
    else:  # say why a criterion could not be evaluated
        why = {"lpips_bd_rate_le_0.05": bd.get(codec, {}).get("lpips", {}).get("why_none", {})
               .get(f"le_{LOW_BPP}", "LPIPS not in --metrics"),
               "psnr_gap_le_0.05": gaps.get(codec, {}).get("why_none", "PSNR not in --metrics"),
               "encode_decode_s": "no 768x512 image coded"}
        for c in criteria:
            if c["met"] is None:
                c["note"] = why[c["name"]]
    return bar


def coding_seconds(rows: list[dict], codec: str) -> float | None:
    """The largest per-setting mean of encode+decode seconds over 768x512 images."""
    per_setting: dict[int, list[float]] = {}
    for r in rows:
        if r["codec"] == codec and r["width"] * r["height"] == BAR_PIXELS:
            per_setting.setdefault(r["setting"], []).append(r["encode_s"] + r["decode_s"])
    return max(float(np.mean(v)) for v in per_setting.values()) if per_setting else None


# ---------------------------------------------------------------- reports

def _fmt(x, digits=3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, str) or not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}f}"


def bar_lines(bar: dict) -> list[str]:
    verdict = {True: "MET", False: "NOT MET", None: "UNDETERMINED"}[bar["met"]]
    lines = [f"bar for {bar['codec']} vs {bar['anchor']}: {verdict}"
             + (f" ({bar['note']})" if bar.get("note") else "")]
    for c in bar["criteria"]:
        mark = {True: "ok  ", False: "FAIL", None: "n/a "}[c["met"]]
        note = f"  ({c['note']})" if c.get("note") else ""
        lines.append(f"  [{mark}] {c['description']}: value {_fmt(c['value'])}{note}")
    return lines


def markdown(results: dict) -> str:
    metrics, env = results["settings"]["metrics"], results["environment"]
    lines = ["# Keyframe codec RD benchmark", "",
             f"{len(results['images'])} images from `{results['settings']['images_dir']}`, "
             f"{results['date']}, {results['wall_s']:.0f} s. bpp = payload bytes x 8 / (W x H); "
             "PSNR on RGB (mean of per-image dB); MS-SSIM on RGB (mean of per-channel); "
             "LPIPS AlexNet; DISTS. Definitions: tools/bench_keyframe_codec.py docstring.", "",
             f"Machine: {env['cpu_count']} CPUs ({env['cpus_usable']} usable), torch threads "
             f"{env['torch_threads']}; PyAV {env['av']}, Pillow {env['pillow']}, torch {env['torch']}.", "",
             "## Bar", "", "```", *(line for bar in results.get("bars", [results["bar"]]) for line in bar_lines(bar)), "```", ""]
    lic = results["codecs"].get("cmvc-lic", {}).get("config", {})
    if "precision" in lic:
        lines += [f"cmvc-lic: weights `{lic['weights']}` with `{lic.get('transform', 'taef2')}`, "
                  f"networks in {lic['precision']}.", ""]
    lr = results["codecs"].get("av1-lr-intra", {}).get("config", {})
    if "weights" in lr:
        lines += [f"av1-lr-intra: restoration weights `{lr['weights']}` in {lr['precision']}.", ""]
    for name, st in results["codecs"].items():
        if st["status"] != "ok":
            lines += [f"- **{name}**: {st['status']}: {st.get('error', '')}"]
    lines += ["", f"## BD-rate vs {ANCHOR} (%, negative = fewer bits at equal quality)", ""]
    head = ["codec"] + [f"{METRIC_LABELS[m].split(' (')[0]} {r}" for m in metrics
                        for r in ("full", f"≤{LOW_BPP}")] + [f"PSNR gap ≤{LOW_BPP} (dB)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for codec, per in results["bd_rate"].items():
        cells = [codec] + [_fmt(per[m][k], 1) for m in metrics for k in ("full", f"le_{LOW_BPP}")]
        cells.append(_fmt(results["psnr_gap"].get(codec, {}).get("mean_db"), 2))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"≤{LOW_BPP}: both curves clipped to bpp ≤ {LOW_BPP}, closed by the point interpolated "
              f"at exactly {LOW_BPP} bpp; – = fewer than two measured points there (or no overlap). "
              f"PSNR gap: mean of PSNR − {ANCHOR}'s PSNR (interpolated) at the codec's own points "
              f"≤ {LOW_BPP} bpp inside {ANCHOR}'s range."]
    lines += ["", "## Mean RD points", ""]
    head = ["codec", "setting", "bpp", *[METRIC_LABELS[m] for m in metrics], "encode ms", "decode ms"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    digits = {"psnr": 2, "msssim": 4, "lpips": 4, "dists": 4}
    for codec, pts in results["means"].items():
        setting_name = results["codecs"][codec]["setting_name"]
        for m in pts:
            cells = [codec, f"{setting_name} {m['setting']}", _fmt(m["bpp"], 4),
                     *[_fmt(m[k], digits[k]) for k in metrics],
                     _fmt(m["encode_s"] * 1000, 0), _fmt(m["decode_s"] * 1000, 0)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, metric in zip(axes.flat, METRICS):
        ax.set_title(METRIC_LABELS[metric] + ("  (lower is better)" if metric in LOWER_IS_BETTER else ""))
        if metric not in results["settings"]["metrics"]:
            ax.text(0.5, 0.5, "not computed", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        for codec, pts in results["means"].items():
            xy = [(m["bpp"], m[metric]) for m in pts if _finite(m[metric])]
            if xy:
                xs, ys = zip(*sorted(xy))
                ax.plot(xs, ys, marker="o", markersize=3, label=codec)
        ax.axvline(LOW_BPP, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("bpp")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{len(results['images'])} images, {results['settings']['images_dir']}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def environment(command: list[str]) -> dict:
    import av
    import PIL
    import torch
    from PIL import features

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except OSError:
        commit = None
    return {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "platform": platform.platform(), "av": av.__version__, "ffmpeg_libs": av.library_versions,
            "pillow": PIL.__version__, "libwebp": features.version("webp"), "libjpeg": features.version("jpg"),
            "torch": torch.__version__, "numpy": np.__version__, "git_commit": commit,
            "command": command}


# ---------------------------------------------------------------- driver

def default_images_dir() -> Path:
    """../shared/media/images/kodak next to the repo, else in any parent folder (worktrees)."""
    for base in ROOT.parents:
        if (base / KODAK_REL).is_dir():
            return base / KODAK_REL
    return ROOT.parent / KODAK_REL


def load_images(folder: Path, limit: int | None) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    if not folder.is_dir():
        raise UsageError(f"images directory {folder} does not exist (use --images DIR)")
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise UsageError(f"no .png images in {folder}")
    out = []
    for p in paths[:limit]:
        with Image.open(p) as im:
            out.append((p.stem, np.array(im.convert("RGB"))))  # writable: torch warns otherwise
    return out


def parse_settings(items: list[str], methods: list[str]) -> dict[str, tuple[int, ...]]:
    out = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in methods:
            raise UsageError(f"--settings {item!r}: {name!r} is not one of --methods {','.join(methods)}")
        try:
            out[name] = tuple(int(v) for v in values.split(",") if v.strip())
        except ValueError:
            raise UsageError(f"--settings {item!r}: values must be integers, e.g. avif=63,50") from None
        if not out[name]:
            raise UsageError(f"--settings {item!r}: no values")
    return out


def parse_list(text: str, allowed, what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise UsageError(f"{what} {text!r}: choose from {','.join(allowed)}")
    return list(dict.fromkeys(names))


def open_codecs(methods: list[str]) -> tuple[dict[str, StillCodec], dict[str, dict]]:
    """Instantiate the codecs; one that cannot load (cmvc-lic not there yet) is reported."""
    codecs, status = {}, {}
    for name in methods:
        try:
            codecs[name] = CODECS[name]()
            status[name] = {"status": "ok"}
        except Exception as exc:  # any import/load failure: report it, benchmark the others
            status[name] = {"status": "unavailable", "error": f"{type(exc).__name__}: {exc}"}
            log(f"{name} unavailable: {status[name]['error']}")
    return codecs, status


def run(args, command: list[str]) -> int:
    methods = parse_list(args.methods, CODECS, "--methods")
    metrics = parse_list(args.metrics, METRICS, "--metrics")
    overrides = parse_settings(args.settings, methods)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be >= 1")
    folder = Path(args.images) if args.images else default_images_dir()
    images = load_images(folder, args.limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    started, t_start = dt.datetime.now(), time.perf_counter()
    scorer = Scorer(metrics)  # before coding: missing weights fail early
    codecs, status = open_codecs(methods)
    settings = {n: overrides.get(n, c.default_settings) for n, c in codecs.items()}
    for name, codec in codecs.items():
        status[name].update(setting_name=codec.setting_name, settings=list(settings[name]),
                            config=codec.config())
    results = {"tool": "tools/bench_keyframe_codec.py", "date": started.isoformat(timespec="seconds"),
               "environment": environment(command),
               "settings": {"images_dir": str(folder.resolve()), "limit": args.limit, "methods": methods,
                            "metrics": metrics, "anchor": ANCHOR, "low_bpp": LOW_BPP,
                            "msssim": "RGB, mean of per-channel MS-SSIM", "psnr": "RGB, mean of per-image dB"},
               "codecs": status, "images": [], "rows": []}

    warm_up(codecs, settings, images[0][1], status)
    for i, (name, ref) in enumerate(images, 1):
        t0 = time.perf_counter()
        coded = code_image(codecs, settings, ref, status)
        t1 = time.perf_counter()
        scores = scorer.score(ref, [c.decoded for c in coded]) if coded else []
        h, w = ref.shape[:2]
        results["images"].append({"name": name, "width": w, "height": h})
        for c, s in zip(coded, scores):
            results["rows"].append({"image": name, "width": w, "height": h, "codec": c.codec,
                                    "setting": c.setting, "bytes": c.nbytes, "bpp": c.nbytes * 8 / (w * h),
                                    "encode_s": c.encode_s, "decode_s": c.decode_s, **s})
        log(f"image {i}/{len(images)} {name}: {len(coded)} decodes in {t1 - t0:.1f} s, "
            f"metrics {time.perf_counter() - t1:.1f} s")
        results["wall_s"] = time.perf_counter() - t_start
        write_results(results, out)  # after every image: a long run leaves partial results

    analyse(results, settings, metrics)
    results["wall_s"] = time.perf_counter() - t_start
    write_results(results, out)
    (out / "summary.md").write_text(markdown(results))
    plot(results, out / "rd.png")
    log(f"done in {results['wall_s']:.0f} s: {out}")
    if args.bar:
        print("\n".join(line for bar in results["bars"] for line in bar_lines(bar)))
    print(out / "results.json")
    return 1 if any(s["status"] == "failed" for s in status.values()) else 0


def warm_up(codecs, settings, rgb, status) -> None:
    """One untimed encode+decode per codec (model loading, first-call allocations)."""
    for name, codec in list(codecs.items()):
        try:
            code_once(codec, rgb, settings[name][0])
        except Exception as exc:
            _fail(codecs, status, name, exc)


def code_image(codecs, settings, rgb, status) -> list[Coded]:
    coded = []
    for name, codec in list(codecs.items()):
        try:
            coded += [code_once(codec, rgb, s) for s in settings[name]]
        except Exception as exc:  # a broken codec is dropped; the others go on
            coded = [c for c in coded if c.codec != name]
            _fail(codecs, status, name, exc)
    return coded


def _fail(codecs, status, name, exc) -> None:
    status[name].update(status="failed", error=f"{type(exc).__name__}: {exc}")
    del codecs[name]
    log(f"{name} failed, dropped: {status[name]['error']}")


def analyse(results: dict, settings: dict, metrics: list[str]) -> None:
    """Means per setting, BD-rates and PSNR gaps vs the anchor, and the bar."""
    ok = [n for n, s in results["codecs"].items() if s["status"] == "ok"]
    means = {n: setting_means(results["rows"], n, settings[n], metrics) for n in ok}
    results["means"] = means
    has_anchor = ANCHOR in means
    results["bd_rate"] = bd_table(means, metrics) if has_anchor else {}
    results["psnr_gap"] = ({n: psnr_gap(means[ANCHOR], pts) for n, pts in means.items() if n != ANCHOR}
                           if has_anchor and "psnr" in metrics else {})
    judged = [c for c in BAR_CODECS if c == BAR_CODECS[0] or c in means]
    results["bars"] = [bar_block(means, results["bd_rate"], results["psnr_gap"], results["rows"],
                                 results["codecs"], codec) for codec in judged]
    results["bar"] = results["bars"][0]


def write_results(results: dict, out: Path) -> None:
    from tools.bench.report import write_json
    write_json(results, out / "results.json")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python tools/bench_keyframe_codec.py",
        description="Rate-distortion benchmark of still-image codecs (AVIF, WebP, JPEG, cmvc-lic, av1-lr) on "
                    "Kodak: bpp, PSNR, MS-SSIM, LPIPS, DISTS, BD-rate vs AVIF, and the issue's bar.")
    p.add_argument("--images", help=f"folder of .png images (default: ../{KODAK_REL} next to the repo)")
    p.add_argument("--limit", type=int, help="use only the first N images (sorted by name)")
    p.add_argument("--methods", default=",".join(CODECS), help=f"comma list from {','.join(CODECS)}")
    p.add_argument("--metrics", default=",".join(METRICS),
                   help="comma list from psnr,msssim,lpips,dists (e.g. psnr,msssim skips the networks)")
    p.add_argument("--settings", action="append", default=[], metavar="CODEC=V,V,...",
                   help="replace a codec's sweep (avif, av1-*: crf, webp/jpeg: quality, cmvc-lic: level); repeatable")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: %(default)s)")
    p.add_argument("--bar", action="store_true", help="also print the bar verdict on stdout")
    p.add_argument("--debug", action="store_true", help="tracebacks instead of one-line errors")
    return p


def main(argv: list[str] | None = None) -> int:
    # what was run, for results.json: the real command line, or the call's arguments
    command = [sys.executable, *sys.argv] if argv is None else ["main", *argv]
    args = parser().parse_args(argv)
    try:
        return run(args, command)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        kind = "" if isinstance(exc, UsageError) else f"{type(exc).__name__}: "
        print(f"error: {kind}{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
