#!/usr/bin/env python3
"""Does the av1-lr restoration network help a clip's keyframes? LPIPS-Alex
of the av1 track's keyframes against the source, without and with the
network, at a few crfs.

    python tools/restoration_keyframe_lpips.py CLIP [--max-frames 120] [--step 9]
        [--crfs 55,58,61] [--json OUT.json]

Every --step-th frame of the first --max-frames is a keyframe; they are coded
as one av1 random-access group (the kept-payload preset), decoded, and scored
before and after the network (the measurement av1-auto decides by, here at
the decoder's precision). Where the network raises keyframe LPIPS, the
av1-lr track loses end to end (tools/results/av1lr-vs-av1/). A table goes to stdout, JSON to --json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(clip: str, max_frames: int, step: int, crfs) -> dict:
    from cmvc_format.restoration.model import load_restoration
    from ffmpeg_bridge.keyframe_codecs.av1 import AV1TrackEncoder
    from ffmpeg_bridge.keyframe_codecs.av1auto import keyframe_lpips
    from ffmpeg_bridge.perceptual.lpips import LPIPS
    from ffmpeg_bridge.video_io import read_video

    video = read_video(clip, max_frames=max_frames)
    pictures = video.frames[::step]
    h, w = pictures[0].shape[:2]
    net, lpips = load_restoration(), LPIPS()
    rows = []
    for crf in crfs:
        payloads = AV1TrackEncoder(w, h, video.colors, crf).encode_group(pictures)
        plain, restored = keyframe_lpips(pictures, payloads, video.colors, net, lpips)
        rows.append({"crf": crf, "bytes": sum(map(len, payloads)), "lpips_av1": round(float(np.mean(plain)), 5),
                     "lpips_av1_lr": round(float(np.mean(restored)), 5),
                     "keyframes_improved": int(sum(r < p for p, r in zip(plain, restored)))})
    return {"clip": clip, "size": f"{w}x{h}", "keyframes": len(pictures), "step": step,
            "weights": net.name, "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip")
    ap.add_argument("--max-frames", type=int, default=120)
    ap.add_argument("--step", type=int, default=9, help="frames between keyframes (default 9)")
    ap.add_argument("--crfs", default="55,58,61", help="SVT-AV1 crfs (default 55,58,61)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.step < 1 or args.max_frames < 1:
        ap.error("--step and --max-frames must be positive")
    try:
        crfs = [float(c) for c in args.crfs.split(",")]
    except ValueError:
        ap.error(f"--crfs {args.crfs!r}: numbers, e.g. 55,58,61")
    result = measure(args.clip, args.max_frames, args.step, crfs)
    print(f"{result['clip']} ({result['size']}, {result['keyframes']} keyframes, {result['weights']})")
    print("crf    bytes  LPIPS av1  LPIPS av1-lr  improved")
    for r in result["rows"]:
        print(f"{r['crf']:<5g} {r['bytes']:>7}  {r['lpips_av1']:.4f}     {r['lpips_av1_lr']:.4f}        "
              f"{r['keyframes_improved']}/{result['keyframes']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
