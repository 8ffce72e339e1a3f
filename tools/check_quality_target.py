#!/usr/bin/env python3
"""Issue 3's quality target, measured: on each clip, CMVC at <= 75% of the
bitrate of SVT-AV1 crf 63 (preset 8) must have LPIPS (AlexNet) no worse than
that SVT-AV1 encode; and the encoder must reach a quarter of that bitrate.

    python tools/check_quality_target.py [CLIP ...] [--max-frames N] [--generator rife]
        [--keyframe-codec av1|av1-lr|...]
        [--rates 0.75,0.25] [--vmaf] [--x265] [--out tools/results/quality_target.json]
    python tools/check_quality_target.py --replot [--out ...]   # redraw the .png only
    python tools/check_quality_target.py CLIP --gaps 0.125,0.2,0.25,0.5 ...  # keyframe-gap sweep

Every encode is scored against the source: kbps, bpp, PSNR (RGB), LPIPS
(AlexNet), with --vmaf VMAF v0.6.1, and encode/decode fps (wall clock, one
process at a time); CMVC rows also say what the rate controller chose
(keyframe count, codec quality, keyframe gap and scale).  --x265 adds x265
crf 51 (preset medium, info=0) at its floor as a second anchor.  --gaps
adds, at each rate, one CMVC row per gap passed as --max-gap-seconds with
--gap-rule crf (where that rule starts its search; it may still double the
gap), keyed
``cmvc_75pct_gap0.2``: the data a keyframe-density rule is judged on.  With
--gaps every CMVC row also splits LPIPS into keyframes and gap midpoints,
with an estimate of the mean from those frames alone (``keyframe_split``).
Default clips: ../shared/media/video/*.mp4 (not shipped with the project).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ffmpeg_bridge.keyframe_codecs import DEFAULT as DEFAULT_KEYFRAME_CODEC  # noqa: E402
from ffmpeg_bridge.video_io import read_video  # noqa: E402
from tools.metrics.vmaf import ffmpeg_exe  # noqa: E402


def lpips_mean(ref: list[np.ndarray], dist: list[np.ndarray], net) -> float:
    return float(np.mean(_lpips_each(ref, dist, net)))


def _lpips_each(ref: list[np.ndarray], dist: list[np.ndarray], net) -> list[float]:
    import torch
    from ffmpeg_bridge.perceptual.images import rgb_to_tensor
    vals = []
    with torch.no_grad():
        for i in range(0, len(ref), 8):
            a = rgb_to_tensor(np.stack(ref[i:i + 8]))
            b = rgb_to_tensor(np.stack(dist[i:i + 8]))
            vals.extend(net(a, b).tolist())
    return vals


def keyframe_split(cmvc_path: str, ref: list[np.ndarray], dist: list[np.ndarray], net) -> dict:
    """LPIPS on the decoded keyframes, on the midpoint between each pair of
    consecutive keyframes, and an estimate of the clip mean from those alone
    (each midpoint standing for every in-between frame of its gap).  The
    estimate needs one interpolated frame per gap, so an encoder could afford
    it; these rows say whether it ranks keyframe densities as the full mean
    does."""
    from cmvc_format import probe
    info = probe(cmvc_path)
    # A gap may run across a segment boundary (to the next segment's first
    # keyframe); the last frame of the clip is always a keyframe.
    kf = sorted({s["first_frame"] + k for s in info["segments"] for k in s["keyframes"]})
    gaps = [(a, b) for a, b in zip(kf, kf[1:]) if b - a >= 2]
    frames = kf + [(a + b) // 2 for a, b in gaps]
    weights = [1] * len(kf) + [b - a - 1 for a, b in gaps]  # frames each score stands for
    scores = np.array(_lpips_each([ref[i] for i in frames], [dist[i] for i in frames], net))
    on_kf, on_mid = scores[:len(kf)], scores[len(kf):]
    return {"lpips_keyframes": round(float(on_kf.mean()), 4),
            "lpips_midpoints": round(float(on_mid.mean()), 4) if gaps else None,
            "lpips_midpoint_estimate": round(float(np.average(scores, weights=weights)), 4)}


def read_decoded(path: str, colors) -> list[np.ndarray]:
    """A decoded file's frames as RGB in the source's colours: a Y4M carries
    no matrix, and read alone it would be taken as BT.709 (on the BT.601
    one-by-one-person-detection that cost the SVT-AV1 anchor 0.0006 LPIPS
    and CMVC 0.0003)."""
    import av
    from ffmpeg_bridge.colors import to_rgb
    with av.open(path) as c:
        return [to_rgb(f, colors) for f in c.decode(video=0)]


def psnr_mean(ref, dist) -> float:
    vals = []
    for a, b in zip(ref, dist):
        mse = np.mean((a.astype(np.float64) - b) ** 2)
        vals.append(10 * np.log10(255 ** 2 / max(mse, 1e-10)))
    return float(np.mean(vals))


ANCHORS = {
    "svtav1_crf63": ["-c:v", "libsvtav1", "-crf", "63", "-preset", "8"],
    "x265_crf51": ["-c:v", "libx265", "-crf", "51", "-x265-params", "info=0:log-level=error"],
}


def anchor(name: str, src: str, frames: int, tmp: str, fps: float) -> tuple[float, str, float]:
    """(kbps, encoded file, encode seconds) of a classical anchor at its floor."""
    out = os.path.join(tmp, f"{name}.mkv")
    t0 = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", src, "-frames:v", str(frames), "-an",
                    *ANCHORS[name], "-pix_fmt", "yuv420p", out],
                   check=True, env=dict(os.environ, SVT_LOG="1"))
    seconds = time.perf_counter() - t0
    # elementary stream bytes: the sum of packet sizes (container overhead excluded)
    import av
    with av.open(out) as c:
        size = sum(p.size for p in c.demux(c.streams.video[0]))
    return size * 8 / (frames / fps) / 1000, out, seconds


def to_y4m(path: str, out: str, frames: int) -> str:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", path, "-frames:v", str(frames),
                    "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-strict", "-1", out], check=True)
    return out


def run_cli(*args) -> None:
    subprocess.run([sys.executable, "-m", *args], check=True, cwd=ROOT)


def plot(doc: dict, path: Path) -> None:
    """LPIPS against kbps, one panel per clip: the CMVC rates as a curve, the
    anchors as points, and the target (75% of SVT-AV1's rate, its LPIPS) as
    the corner of a shaded box CMVC's 75% point must fall in."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips = doc["clips"]
    cols = min(3, len(clips))
    rows = -(-len(clips) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, row in zip(axes.flat, clips):
        svt = row["svtav1_crf63"]
        ax.fill_between([0, 0.75 * svt["kbps"]], 0, svt["lpips"], color="tab:green", alpha=0.12,
                        label="target")
        cm = sorted((v["kbps"], v["lpips"]) for k, v in row.items()
                    if k.startswith("cmvc_") and "_gap" not in k)
        ax.plot(*zip(*cm), marker="o", color="tab:blue", label="CMVC (IT2V, RIFE)")
        swept = [(v["kbps"], v["lpips"]) for k, v in row.items() if k.startswith("cmvc_") and "_gap" in k]
        if swept:
            ax.plot(*zip(*swept), marker=".", linestyle="", color="tab:gray",
                    label="CMVC, --max-gap-seconds swept")
            cm += swept
        for name, label, marker, color in (("svtav1_crf63", "SVT-AV1 crf 63", "s", "tab:red"),
                                           ("x265_crf51", "x265 crf 51", "^", "tab:orange")):
            if name in row:
                ax.plot(row[name]["kbps"], row[name]["lpips"], marker=marker, linestyle="",
                        markersize=8, color=color, label=label)
        ax.set_xlim(0, 1.1 * max(svt["kbps"], *(k for k, _ in cm)))
        ax.set_ylim(0, 1.1 * max(v["lpips"] for k, v in row.items() if isinstance(v, dict)))
        ax.set_title(f"{row['clip']} ({row['size']}, {row['frames']} fr)", fontsize=9)
        ax.set_xlabel("kbps")
        ax.set_ylabel("LPIPS-Alex (lower is better)")
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(clips):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*")
    ap.add_argument("--max-frames", type=int, default=250)
    ap.add_argument("--generator", default="rife")
    ap.add_argument("--rates", default="0.75,0.25",
                    help="CMVC target rates as fractions of the SVT-AV1 crf 63 rate")
    ap.add_argument("--keyframe-codec", default=DEFAULT_KEYFRAME_CODEC,
                    help="cmvc-mux --keyframe-codec (default: cmvc-mux's, %(default)s)")
    ap.add_argument("--vmaf", action="store_true", help="also score VMAF v0.6.1")
    ap.add_argument("--x265", action="store_true", help="also run x265 crf 51 as an anchor")
    ap.add_argument("--gaps", default="",
                    help="also run CMVC with each of these --max-gap-seconds (comma-separated)")
    ap.add_argument("--out", default=str(ROOT / "tools" / "results" / "quality_target.json"),
                    help="results JSON; the plot goes beside it (.png)")
    ap.add_argument("--keep", metavar="DIR",
                    help="copy each CMVC stream and its rate-control report here "
                         "(<clip>.<label>.cmvc/.json), to decode them again later")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the plot from an existing --out JSON")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if a.replot:
        try:
            doc = json.loads(out.read_text())
        except (OSError, ValueError) as e:
            ap.error(f"--replot: cannot read {out}: {e}")
        plot(doc, out.with_suffix(".png"))
        print(f"wrote {out.with_suffix('.png')}", file=sys.stderr)
        return 0
    try:
        rates = [float(r) for r in a.rates.split(",")]
        gaps = [float(g) for g in a.gaps.split(",")] if a.gaps else []
    except ValueError as e:
        ap.error(f"--rates/--gaps: {e}")
    if any(g <= 0 for g in gaps):
        ap.error("--gaps: every gap must be positive")
    shared = ROOT.parent / "shared" / "media" / "video"
    clips = a.clips or sorted(str(p) for p in shared.glob("*.mp4"))
    if not clips:
        ap.error(f"no clips given and none in {shared}")
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    from ffmpeg_bridge.perceptual.lpips import LPIPS
    net = LPIPS("alex")
    results = []
    for clip in clips:
        src = read_video(clip, max_frames=a.max_frames)
        n, fps = len(src.frames), float(src.fps)
        pixels = n * src.width * src.height
        with tempfile.TemporaryDirectory() as tmp:
            ref_y4m = to_y4m(clip, os.path.join(tmp, "ref.y4m"), n) if a.vmaf else None

            def score(decoded: str, kbps: float, cmvc: str | None = None) -> dict:
                got = read_decoded(decoded, src.colors)
                if len(got) != n:
                    raise SystemExit(f"{decoded}: {len(got)} frames, source has {n}")
                r = {"kbps": round(kbps, 3), "bpp": round(kbps * 1000 * (n / fps) / pixels, 6),
                     "lpips": round(lpips_mean(src.frames, got, net), 4),
                     "psnr": round(psnr_mean(src.frames, got), 3)}
                if a.vmaf:
                    from tools.metrics.vmaf import vmaf
                    dist = decoded if decoded.endswith(".y4m") else \
                        to_y4m(decoded, decoded + ".y4m", n)
                    r["vmaf"] = round(vmaf(Path(ref_y4m), Path(dist))["vmaf"], 2)
                if cmvc:
                    r.update(keyframe_split(cmvc, src.frames, got, net))
                return r

            row = {"clip": os.path.basename(clip), "frames": n, "size": f"{src.width}x{src.height}",
                   "fps": fps}
            for name in ["svtav1_crf63"] + (["x265_crf51"] if a.x265 else []):
                kbps, file, enc_s = anchor(name, clip, n, tmp, fps)
                t0 = time.perf_counter()
                dec = to_y4m(file, os.path.join(tmp, f"{name}.y4m"), n)
                dec_s = time.perf_counter() - t0
                row[name] = score(dec, kbps)
                row[name].update(encode_fps=round(n / enc_s, 2), decode_fps=round(n / dec_s, 2))
            svt_kbps = row["svtav1_crf63"]["kbps"]
            for factor, gap in [(f, g) for f in rates for g in [None, *gaps]]:
                label = f"cmvc_{round(factor * 100)}pct" + (f"_gap{gap:g}" if gap else "")
                target = svt_kbps * factor
                cm = os.path.join(tmp, f"{label}.cmvc")
                dec = os.path.join(tmp, f"{label}.y4m")
                t0 = time.perf_counter()
                report = os.path.join(tmp, f"{label}.json")
                run_cli("ffmpeg_bridge.cli.mux", clip, cm, "-q", "--max-frames", str(n),
                        "--target-kbps", f"{target:.4f}", "--report", report,
                        "--keyframe-codec", a.keyframe_codec,
                        *(["--max-gap-seconds", f"{gap:g}", "--gap-rule", "crf"] if gap else []))
                t1 = time.perf_counter()
                run_cli("ffmpeg_bridge.cli.decode", cm, dec, "-q", "--generator", a.generator)
                t2 = time.perf_counter()
                kbps = os.path.getsize(cm) * 8 / (n / fps) / 1000
                chosen = json.loads(Path(report).read_text())
                if a.keep:
                    stem = os.path.join(a.keep, f"{Path(clip).stem}.{label}")
                    shutil.copyfile(cm, stem + ".cmvc")
                    shutil.copyfile(report, stem + ".json")
                row[label] = {"target_kbps": round(target, 3),
                              **score(dec, kbps, cm if gaps else None),
                              "encode_fps": round(n / (t1 - t0), 2), "decode_fps": round(n / (t2 - t1), 2),
                              # what the rate controller chose
                              "keyframes": chosen["keyframes"], "quality": chosen["quality"],
                              "max_gap_seconds": chosen["max_gap_seconds"],
                              "max_gap_frames": chosen.get("max_gap_frames"),
                              "keyframe_scale": chosen["keyframe_scale"],
                              **({"keyframe_groups": chosen["keyframe_groups"]}
                                 if "keyframe_groups" in chosen else {}),
                              "rate_control": chosen.get("rate_control")}
            if "cmvc_75pct" in row:
                row["meets_target"] = (row["cmvc_75pct"]["kbps"] <= 0.75 * svt_kbps * 1.0001
                                       and row["cmvc_75pct"]["lpips"] <= row["svtav1_crf63"]["lpips"])
            if "cmvc_25pct" in row:
                row["reaches_quarter"] = row["cmvc_25pct"]["kbps"] <= 0.25 * svt_kbps * 1.10
        print(json.dumps(row), file=sys.stderr)
        results.append(row)
        doc = {"generator": a.generator, "keyframe_codec": a.keyframe_codec, "max_frames": a.max_frames,
               "rates": rates,
               **({"gaps": gaps} if gaps else {}), "clips": results}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n")
    plot(doc, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
