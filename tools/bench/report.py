"""Results of a run: JSON (everything), a markdown summary, and one RD plot per clip."""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

from tools.metrics.bdrate import bd_rate

# (key, label, higher_is_better)
PLOT_METRICS = [("psnr_y", "PSNR-Y (dB)", True), ("msssim", "MS-SSIM (Y)", True), ("vmaf", "VMAF v0.6.1", True),
                ("lpips_alex", "LPIPS AlexNet", False), ("lpips_vgg", "LPIPS VGG", False), ("dists", "DISTS", False)]
BD_METRICS = ["psnr_y", "msssim", "vmaf", "lpips_alex", "dists"]


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _json_safe(obj):
    """JSON has no infinities (PSNR of identical frames): write them as the string 'inf'."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else None)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_json(results: dict, path: Path) -> None:
    path.write_text(json.dumps(_json_safe(results), indent=2, allow_nan=False) + "\n")


def curves(clip: dict, metric: str) -> dict[str, list[tuple[float, float]]]:
    """family -> [(kbps, quality)] sorted by rate, for methods that succeeded."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in clip["methods"]:
        q = m.get("metrics", {}).get(metric)
        if "error" not in m and _finite(q):
            out.setdefault(m["family"], []).append((m["kbps"], q))
    return {f: sorted(pts) for f, pts in out.items()}


def bd_rates(clip: dict) -> list[dict]:
    """BD-rate for every pair of families with >= 2 points and distinct qualities.

    The anchor of a pair is the family with more points (the VVenC QP ladder in the
    classical set), ties broken by name; the reverse direction adds nothing.
    """
    rows = []
    for metric in BD_METRICS:
        fams = {f: pts for f, pts in curves(clip, metric).items()
                if len(pts) >= 2 and len({q for _, q in pts}) == len(pts)}
        for a, b in itertools.combinations(sorted(fams, key=lambda f: (-len(fams[f]), f)), 2):
            ra, qa = zip(*fams[a])
            rb, qb = zip(*fams[b])
            rows.append({"metric": metric, "anchor": a, "test": b, "bd_rate_percent": bd_rate(ra, qa, rb, qb)})
    return rows


def plot_clip(clip: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    present = [pm for pm in PLOT_METRICS if curves(clip, pm[0])]
    if not present:
        return
    cols = min(3, len(present))
    rows = math.ceil(len(present) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False)
    for ax, (key, label, higher) in zip(axes.flat, present):
        for family, pts in sorted(curves(clip, key).items()):
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", label=family)
        ax.set_xscale("log")
        # plain numbers (20, 30, 50) rather than 2x10^1; minor ticks labelled at 2, 3, 5 only
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "235" else ""))
        ax.set_xlabel("bitrate (kbps, elementary stream)")
        ax.set_ylabel(label + ("" if higher else "  (lower is better)"))
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(present):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{clip['name']}: {clip['width']}x{clip['height']}, {clip['frames']} frames @ {clip['fps']:.2f} fps")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(x, digits: int) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):  # "inf" from a re-read results.json
        return x
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"


_COLUMNS = [("kbps", 2), ("bpp", 5), ("psnr_y", 2), ("psnr_rgb", 2), ("msssim", 4), ("vmaf", 2),
            ("lpips_alex", 4), ("lpips_vgg", 4), ("dists", 4), ("flicker", 2)]


def _overview(results: dict) -> list[str]:
    """Per method, the mean over the clips where it succeeded (clips weigh equally)."""
    keys = ["bpp", "psnr_y", "msssim", "vmaf", "lpips_alex", "lpips_vgg", "dists", "flicker"]
    per: dict[str, dict[str, list[float]]] = {}
    for clip in results["clips"]:
        for m in clip.get("methods", []):
            if "error" in m:
                continue
            row = per.setdefault(m["name"], {k: [] for k in keys + ["enc_fps"]})
            for k in keys:
                v = m["bpp"] if k == "bpp" else m.get("metrics", {}).get(k)
                if _finite(v):
                    row[k].append(v)
            if _finite(m["encode"]["fps"]):
                row["enc_fps"].append(m["encode"]["fps"])
    if not per:
        return []
    digits = {"bpp": 5, "psnr_y": 2, "msssim": 4, "vmaf": 2, "flicker": 2}
    lines = ["## All clips (mean over clips)", "",
             "| method | clips | " + " | ".join(keys) + " | enc fps |", "|---" * (len(keys) + 3) + "|"]
    for name, row in per.items():
        n = max(len(v) for v in row.values())
        vals = [_fmt(sum(row[k]) / len(row[k]) if row[k] else None, digits.get(k, 4)) for k in keys]
        fps = _fmt(sum(row["enc_fps"]) / len(row["enc_fps"]) if row["enc_fps"] else None, 1)
        lines.append(f"| {name} | {n} | " + " | ".join(vals) + f" | {fps} |")
    return lines + [""]


def markdown(results: dict) -> str:
    s = results["settings"]
    lines = [f"# Benchmark run {results['started']}", "",
             f"- wall time: {results['wall_s']:.0f} s on {results['host']['cpu_count']} CPU cores; "
             f"metrics device: {s['device']}",
             f"- frames per clip: {s['max_frames'] or 'all'}; LPIPS-AlexNet on {s['deep_frames']}, "
             f"LPIPS-VGG and DISTS on {s['vgg_frames']} evenly spaced frames per clip; "
             f"PSNR, MS-SSIM, VMAF and flicker on every frame",
             "- sizes: bitstream bytes of the elementary stream (kbps, bpp); container = the stream in its container (MP4; MKV for CMVC)",
             f"- ffmpeg: {results['host']['ffmpeg']}", ""]
    lines += _overview(results)
    for clip in results["clips"]:
        if "error" in clip:
            lines += [f"## {clip['name']}", "", f"FAILED: {clip['error']}", ""]
            continue
        lines += [f"## {clip['name']} ({clip['width']}x{clip['height']}, {clip['frames']} frames, "
                  f"{clip['fps']:.3f} fps)", "",
                  "| method | bytes | container | " + " | ".join(c for c, _ in _COLUMNS)
                  + " | enc fps | dec fps | enc MiB | dec MiB |",
                  "|---" * (len(_COLUMNS) + 7) + "|"]
        for m in clip["methods"]:
            if "error" in m:
                lines.append(f"| {m['name']} | FAILED: {m['error']} |")
                continue
            met = m.get("metrics", {})
            vals = [_fmt(m[c] if c in ("kbps", "bpp") else met.get(c), d) for c, d in _COLUMNS]
            lines.append(f"| {m['name']} | {m['bitstream_bytes']} | {m.get('container_bytes', '–')} | "
                         + " | ".join(vals)
                         + f" | {_fmt(m['encode']['fps'], 1)} | {_fmt(m['decode']['fps'], 1)}"
                         f" | {_fmt(m['encode']['peak_rss_mib'], 0)} | {_fmt(m['decode']['peak_rss_mib'], 0)} |")
        bds = [r for r in clip.get("bd_rates", []) if r["bd_rate_percent"] is not None]
        if bds:
            lines += ["", "BD-rate (PCHIP; negative = test needs fewer bits):", "",
                      "| metric | anchor | test | BD-rate % |", "|---|---|---|---|"]
            lines += [f"| {r['metric']} | {r['anchor']} | {r['test']} | {r['bd_rate_percent']:+.2f} |" for r in bds]
        lines += ["", f"![RD curves]({clip['name']}.png)", ""]
    lines += ["## Methods", ""]
    seen = set()
    for clip in results["clips"]:
        for m in clip.get("methods", []):
            if m["name"] not in seen:
                seen.add(m["name"])
                lines.append(f"- `{m['name']}`: {m.get('description') or m.get('encode')}")
    return "\n".join(lines) + "\n"


def render(results_json: Path) -> None:
    """Rewrite summary.md and the plots next to an existing results.json."""
    results = json.loads(Path(results_json).read_text())
    out = Path(results_json).parent
    for clip in results["clips"]:
        if "error" not in clip:
            plot_clip(clip, out / f"{clip['name']}.png")
    (out / "summary.md").write_text(markdown(results))


if __name__ == "__main__":  # python -m tools.bench.report out/bench/<run>/results.json
    import sys

    for arg in sys.argv[1:] or ["--help"]:
        if arg.startswith("-"):
            print("usage: python -m tools.bench.report RESULTS_JSON...  (re-render summary.md and plots)")
            sys.exit(0 if arg in ("-h", "--help") else 2)
        render(Path(arg))
