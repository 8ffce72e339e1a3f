"""Command line of the benchmark harness (python -m tools.bench)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from .errors import BenchError
from .evaluate import ALL_METRICS, DeepModels
from .ffmpeg import ffmpeg_exe
from .methods import DEFAULT_METHODS, GRAMMAR_HELP, classical, load_spec
from .report import bd_rates, markdown, plot_clip, write_json
from .runner import Settings, run_clip

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CLIPS = REPO.parent / "shared" / "media" / "video"
VIDEO_EXTS = {".mp4", ".mkv", ".mov", ".webm", ".avi", ".y4m", ".m4v"}


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Encode clips with each method, decode, and score against the source "
                    "(PSNR, MS-SSIM, VMAF, LPIPS, DISTS, temporal flicker); sizes, speed and memory.")
    p.add_argument("clips", nargs="*", type=Path,
                   help=f"video files or folders (folders searched recursively); default: the videos directly in {DEFAULT_CLIPS}")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help=f"comma-separated classical methods ({GRAMMAR_HELP}); '' for none; "
                        f"default: %(default)s")
    p.add_argument("--method-spec", type=Path, action="append", default=[],
                   help="JSON file of further methods (commands or Python functions); repeatable")
    p.add_argument("--max-frames", type=int, default=32,
                   help="first N frames of each clip (0 = all); default %(default)s")
    p.add_argument("--deep-frames", type=int, default=8,
                   help="evenly spaced frames per clip for LPIPS-AlexNet (0 = none); default %(default)s")
    p.add_argument("--vgg-frames", type=int, default=2,
                   help="evenly spaced frames per clip for the VGG16 metrics LPIPS-VGG and DISTS "
                        "(~1 s per 640x480 frame per method on 2 cores; 0 = none); default %(default)s")
    p.add_argument("--metrics", default=",".join(ALL_METRICS),
                   help="comma-separated subset of %(default)s")
    p.add_argument("--device", default="cpu",
                   help="torch device for LPIPS/DISTS/MS-SSIM and for CMVC's generator (cpu, cuda)")
    p.add_argument("--batch", type=int, default=1,
                   help="frames per LPIPS/DISTS forward pass (1 is fastest on CPU; raise it on a GPU)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for libvmaf and the LPIPS/DISTS networks (other torch work uses 1)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds allowed per encode or decode")
    p.add_argument("--out", type=Path, help="output folder (default out/bench/<timestamp>)")
    p.add_argument("--keep-decoded", action="store_true", help="keep reference and decoded y4m files")
    p.add_argument("--list-methods", action="store_true", help="print the default methods and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def collect_clips(paths: list[Path]) -> list[Path]:
    if not paths:
        if not DEFAULT_CLIPS.is_dir():
            raise BenchError(f"no clips given and the default folder {DEFAULT_CLIPS} does not exist")
        # The default set is the folder's own videos, not its sub-folders: the ten
        # near-identical ASL gesture clips would triple the run (classical + CMVC:
        # 15 min for the five top-level clips, ~40 min with them) and add little.
        return sorted(f for f in DEFAULT_CLIPS.iterdir() if f.suffix.lower() in VIDEO_EXTS and f.is_file())
    clips: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_EXTS and f.is_file())
            if not found:
                raise BenchError(f"{p}: no video files ({', '.join(sorted(VIDEO_EXTS))})")
            clips += found
        elif p.is_file():
            clips.append(p)
        else:
            raise BenchError(f"{p}: no such file or folder")
    names = [c.stem for c in clips]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BenchError(f"clip names must be unique (results are keyed by name): {', '.join(dupes)}")
    return clips


def _settings(args) -> Settings:
    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise BenchError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL_METRICS)}")
    if min(args.max_frames, args.deep_frames, args.vgg_frames) < 0 or min(args.batch, args.threads) < 1:
        raise BenchError("--max-frames/--deep-frames/--vgg-frames must be >= 0, --batch/--threads >= 1")
    if args.device != "cpu":
        import torch

        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise BenchError(f"--device {args.device}: torch sees no CUDA device (torch {torch.__version__})")
    return Settings(max_frames=args.max_frames or None, deep_frames=args.deep_frames,
                    vgg_frames=args.vgg_frames, metrics=metrics,
                    device=args.device, batch=args.batch, threads=args.threads,
                    keep_decoded=args.keep_decoded, timeout_s=args.timeout)


def _ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True).stdout
    return (out.splitlines() or ["unknown"])[0]


def run(args) -> int:
    settings = _settings(args)
    methods = [classical(n.strip()) for n in args.methods.split(",") if n.strip()]
    for m in methods:  # generative decoders run where the metrics run
        if hasattr(m, "device"):
            m.device = settings.device
    for spec in args.method_spec:
        methods += load_spec(spec)
    if not methods:
        raise BenchError("no methods to run")
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise BenchError(f"duplicate method names: {names}")
    clips = collect_clips(args.clips)
    started = dt.datetime.now()
    # absolute: the methods run with their work folder as the current directory
    out = Path(args.out).resolve() if args.out else REPO / "out" / "bench" / started.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    import torch

    torch.set_num_threads(1)  # see DeepModels: only the networks get settings.threads
    deep_metrics = tuple(m for m in settings.metrics if m in ("lpips", "dists"))
    deep = (DeepModels(settings.device, deep_metrics, settings.threads)
            if deep_metrics and (settings.deep_frames or settings.vgg_frames) else None)
    if deep:
        deep.models()  # fail early (missing weights) rather than after the first clip's encodes
    results = {"tool": "tools.bench", "format": 1, "started": started.isoformat(timespec="seconds"),
               "host": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version(), "torch": torch.__version__,
                        "ffmpeg": _ffmpeg_version()},
               "settings": {"max_frames": settings.max_frames, "deep_frames": settings.deep_frames,
                            "vgg_frames": settings.vgg_frames,
                            "metrics": list(settings.metrics), "device": settings.device,
                            "threads": settings.threads, "methods": names},
               "clips": []}
    t0 = time.perf_counter()
    failures = 0
    for i, clip in enumerate(clips, 1):
        _log(f"clip {i}/{len(clips)}: {clip}")
        try:
            rec = run_clip(clip, methods, settings, work, deep, _log)
            rec["bd_rates"] = bd_rates(rec)
            failures += sum("error" in m for m in rec["methods"])
        except BenchError as exc:
            if args.debug:
                raise
            _log(f"  FAILED: {exc}")
            rec = {"name": clip.stem, "path": str(clip), "error": str(exc)}
            failures += 1
        results["clips"].append(rec)
        results["wall_s"] = round(time.perf_counter() - t0, 1)
        write_json(results, out / "results.json")  # after every clip: a long run leaves partial results
        if "error" not in rec:
            plot_clip(rec, out / f"{rec['name']}.png")
    (out / "summary.md").write_text(markdown(results))
    if not settings.keep_decoded:
        for d in work.glob("*"):
            for p in d.glob("*.y4m"):
                p.unlink()
    _log(f"done in {results['wall_s']:.0f} s, {failures} failure(s)")
    print(out / "results.json")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list_methods:
        for name in DEFAULT_METHODS:
            m = classical(name)
            print(f"{m.name:18s} {m.description}")
        print(f"\nother classical points: {GRAMMAR_HELP}")
        return 0
    try:
        return run(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; the traceback only on request
        if args.debug:
            raise
        from ffmpeg_bridge.perceptual.weights import WeightsUnavailable

        kind = "" if isinstance(exc, (BenchError, WeightsUnavailable)) else f"{type(exc).__name__}: "
        hint = (" (or run without them: --metrics psnr,msssim,vmaf,flicker)"
                if isinstance(exc, WeightsUnavailable) else "")
        print(f"error: {kind}{exc}{hint}", file=sys.stderr)
        return 2
