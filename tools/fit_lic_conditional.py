#!/usr/bin/env python3
"""Fit the conditional tables of CMVC-LIC predicted payloads (spec 10.2.1.1).

Keyframes are taken every G frames of each clip (G from --gaps) and coded as
one chain per clip and gap: the first as a random-access payload's symbols,
each next one as a predicted payload's symbols given the one before (with the
encoder's keep setting). Counting how often a symbol equals, or is one off,
the previous co-located symbol, per quality, channel and context, gives the
tables (conditional.fit). Deterministic: same clips and settings, same file.

    python tools/fit_lic_conditional.py                 # fit, write cmvc_format/lic/weights/lic-cond-*.safetensors
    python tools/fit_lic_conditional.py --evaluate CLIP [CLIP ...] --json out.json
                                                        # bytes per keyframe, random-access vs predicted

By default it fits on the ASL gesture clips of ../shared/media/video except
`again`, so that the six clips the keyframe track is measured on end to end
(tools/results/lic-conditional/) are not among them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "media" / "video"
FIT_CLIPS = [SHARED / "asl_gestures" / f"{n}.mkv"
             for n in ("book", "eat", "hungry", "milk", "no", "school", "sorry", "thanks", "want")]


def chains(codec, path: Path, gaps: list[int], max_frames: int, keep: float, qualities):
    """Yield (quality, gap, symbols, previous symbols) along each chain of one clip."""
    from ffmpeg_bridge.video_io import read_video

    frames = read_video(str(path), max_frames=max_frames).frames
    latents: dict[int, object] = {}

    def latent(i):
        if i not in latents:
            latents[i] = codec.latent(np.ascontiguousarray(frames[i]))
        return latents[i]

    for gap in gaps:
        picks = list(range(0, len(frames), gap))
        for q in qualities:
            prev = codec.symbols_of_latent(latent(picks[0]), q)
            for i in picks[1:]:
                cur = codec.predicted_symbols_of_latent(latent(i), q, prev, keep)
                yield q, gap, cur, prev
                prev = cur


def fit(args, codec) -> int:
    from cmvc_format.lic import conditional
    from cmvc_format.lic.weights_file import save_conditional_tables
    from tools.train_keyframe_codec import provenance

    started = time.time()
    qualities = range(codec.n_quality)
    counts = {q: 0 for q in qualities}
    pairs = 0
    for clip in args.clips:
        print(f"{clip.name}: coding chains", file=sys.stderr)
        for q, _gap, cur, prev in chains(codec, clip, args.gaps, args.max_frames, args.keep, qualities):
            counts[q] = counts[q] + conditional.tally(cur, prev)
            pairs += q == 0
    tables = {q: conditional.fit(counts[q], codec.tables[q].radius) for q in qualities}
    meta = {"clips": json.dumps([c.name for c in args.clips]), "gaps": json.dumps(args.gaps),
            "max_frames": args.max_frames, "keep": args.keep, "contexts": conditional.CONTEXTS}
    path = save_conditional_tables(tables, codec.lic_sha256, meta, args.out)
    log = {"file": path.name,
           "clips": [str(c.relative_to(SHARED)) if c.is_relative_to(SHARED) else str(c) for c in args.clips],
           "gaps": args.gaps, "max_frames": args.max_frames, "keep": args.keep, "keyframe_pairs": pairs,
           "lic": codec.lic_sha256, "precision": codec.precision,
           "same_fraction": {q: round(float(counts[q][..., 0].sum() / counts[q].sum()), 4) for q in qualities},
           **provenance(args, started)}
    path.with_suffix(".fit.json").write_text(json.dumps(log, indent=1) + "\n")
    for old in Path(args.out).glob("lic-cond-*.fit.json"):
        if old.name != path.with_suffix(".fit.json").name:
            old.unlink()
    print(f"wrote {path} ({pairs} keyframe pairs per quality, {log['total_seconds']} s)", file=sys.stderr)
    return 0


def evaluate(args, codec) -> int:
    """Mean payload bytes per keyframe after the first, random-access against
    predicted, per clip, gap and quality (the same keyframes)."""
    rows = []
    for clip in args.evaluate:
        print(f"{clip.name}: coding chains", file=sys.stderr)
        sums: dict = {}
        for q, gap, cur, prev in chains(codec, clip, args.gaps, args.max_frames, args.keep, args.qualities):
            h, w = cur.shape[1] * 32, cur.shape[2] * 32
            intra = len(codec.payload_of_symbols(cur, q, w, h))  # the same symbols, coded alone
            pred = len(codec.payload_of_symbols(cur, q, w, h, prev=prev))
            s = sums.setdefault((q, gap), [0, 0, 0])
            s[0] += intra
            s[1] += pred
            s[2] += 1
        for (q, gap), (intra, pred, n) in sorted(sums.items()):
            rows.append({"clip": clip.name, "quality": q, "gap_frames": gap, "keyframes": n,
                         "random_access_bytes": round(intra / n, 1), "predicted_bytes": round(pred / n, 1),
                         "saving": round(1 - pred / intra, 4)})
            print(f"  q{q} gap {gap}: {intra / n:.0f} bytes alone, {pred / n:.0f} predicted "
                  f"({pred / intra - 1:+.1%})", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"keep": args.keep, "rows": rows}, indent=1) + "\n")
    return 0


def main(argv=None) -> int:
    from cmvc_format.lic.codec import KEEP
    from cmvc_format.lic.weights_file import WEIGHTS_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", nargs="+", type=Path, default=FIT_CLIPS, help="clips to fit on")
    ap.add_argument("--gaps", type=lambda s: [int(x) for x in s.split(",")], default=[5, 10, 20],
                    help="keyframe spacings in frames (default 5,10,20)")
    ap.add_argument("--max-frames", type=int, default=120)
    ap.add_argument("--keep", type=float, default=KEEP, help=f"encoder keep setting (default {KEEP})")
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--evaluate", nargs="+", type=Path, help="measure the shipped tables on these clips instead")
    ap.add_argument("--qualities", type=lambda s: [int(x) for x in s.split(",")], default=None)
    ap.add_argument("--json", help="with --evaluate: write the rows here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    from cmvc_format.lic.codec import load_codec

    torch.set_num_threads(args.threads)
    codec = load_codec()
    missing = [c for c in (args.evaluate or args.clips) if not c.exists()]
    if missing:
        print(f"error: no such clip: {missing[0]}", file=sys.stderr)
        return 2
    if args.evaluate:
        args.qualities = args.qualities or list(range(codec.n_quality))
        return evaluate(args, codec)
    return fit(args, codec)


if __name__ == "__main__":
    sys.exit(main())
