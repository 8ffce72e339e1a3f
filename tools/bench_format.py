#!/usr/bin/env python3
"""Container benchmarks for the CMVC format (issue: format v1 closing note).

Measures, on this machine:
  * container overhead in bytes per segment (everything that is not keyframe
    data, caption text after compression or motion values: chunk framing,
    SEGM, payload headers, the index entry);
  * sequential parse throughput (MB/s) of a ~100 MB stream, CRCs checked;
  * time to probe a 10,000-segment stream through the seek index.

    python tools/bench_format.py [--size-mb 100] [--segments 10000] [--out tools/results/format_bench.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmvc_format import (  # noqa: E402
    Caption, CaptionKind, Codec, KeyframePayload, KeyframeRefId, Mode, Motion, MotionModel,
    Segment, StreamHeader, StreamReader, StreamWriter, probe, write_stream,
)
from cmvc_format.bodies import encode_capt, encode_motn  # noqa: E402


def _header(frames=None):
    return StreamHeader(width=768, height=432, frame_rate=Fraction(25), time_base=Fraction(1, 25),
                        frame_count=frames, encoder_name="bench_format")


def _segment(i, payload_size, keyframes=2, frames=8, captions=True, motion=True):
    data = os.urandom(payload_size) if payload_size else b""
    payloads = [KeyframePayload(k, Codec.AV1, 768, 432, data,
                                random_access=(i == 0 and k == 0),
                                refs=[] if (i == 0 and k == 0) else
                                [KeyframeRefId(i, k - 1) if k else KeyframeRefId(i - 1, keyframes - 1)])
                for k in range(keyframes)]
    caps = [Caption(CaptionKind.CONTENT, f"a grey car drives along a wet road past trees, segment {i}"),
            Caption(CaptionKind.MOTION, "the camera pans left slowly")] if captions else []
    mot = Motion(MotionModel.GLOBAL_SIMILARITY, [(-8, 0, 0, 0)] * frames) if motion else None
    kf = [0, frames - 1] if keyframes == 2 else list(range(keyframes))
    return Segment(index=i, first_frame=i * frames, frame_count=frames, mode=Mode.IT2V,
                   keyframes=kf, payloads=payloads, captions=caps, motion=mot)


def overhead(n=100) -> dict:
    """Bytes per segment that are not payload content."""
    out = {}
    for name, kw in {"it2v_2kf_2captions_motion": {},
                     "it2v_1kf_no_captions_no_motion": dict(keyframes=1, captions=False, motion=False)}.items():
        segs = [_segment(i, 300, **kw) for i in range(n)]
        total = len(write_stream(_header(), segs))
        empty = len(write_stream(_header(), []))
        content = 0
        for s in segs:
            content += sum(len(p.data) for p in s.payloads)
            # compressed caption/motion bytes are content; their chunk headers are overhead
            content += sum(len(encode_capt(c)) - 10 for c in s.captions)
            if s.motion:
                content += len(encode_motn(s.motion)) - 7
        out[name] = {"segments": n, "stream_bytes": total, "content_bytes": content,
                     "overhead_bytes_per_segment": round((total - empty - content) / n, 2),
                     "fixed_stream_bytes": empty}
    return out


def throughput(size_mb: int, tmpdir: str) -> dict:
    payload = 10_000
    n = size_mb * 1_000_000 // (2 * payload + 200)
    path = os.path.join(tmpdir, "big.cmvc")
    t0 = time.perf_counter()
    with open(path, "wb") as fp, StreamWriter(fp, _header()) as w:
        for i in range(n):
            w.write_segment(_segment(i, payload))
    write_s = time.perf_counter() - t0
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    with StreamReader(path) as r:
        count = sum(1 for _ in r.segments())
    parse_s = time.perf_counter() - t0
    os.unlink(path)
    return {"stream_bytes": size, "segments": count, "write_seconds": round(write_s, 3),
            "write_MB_per_s": round(size / 1e6 / write_s, 1),
            "parse_seconds": round(parse_s, 3), "parse_MB_per_s": round(size / 1e6 / parse_s, 1)}


def probe_time(segments: int, tmpdir: str) -> dict:
    path = os.path.join(tmpdir, "many.cmvc")
    with open(path, "wb") as fp, StreamWriter(fp, _header()) as w:
        for i in range(segments):
            w.write_segment(_segment(i, 200))
    size = os.path.getsize(path)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        info = probe(path, scan=False)
        runs.append(time.perf_counter() - t0)
    assert info["indexed"] and len(info["segments"]) == segments
    t0 = time.perf_counter()
    full = probe(path, scan=True)
    scan_s = time.perf_counter() - t0
    assert len(full["segments"]) == segments
    with StreamReader(path) as r:
        t0 = time.perf_counter()
        r.read_segment(r.segment_for_frame(segments * 8 // 2))
        seek_s = time.perf_counter() - t0
    os.unlink(path)
    return {"segments": segments, "stream_bytes": size,
            "probe_index_seconds_median": round(sorted(runs)[len(runs) // 2], 4),
            "probe_full_scan_seconds": round(scan_s, 3),
            "seek_to_middle_frame_seconds": round(seek_s, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=100, help="throughput stream size (default 100)")
    ap.add_argument("--segments", type=int, default=10_000, help="probe stream segments (default 10000)")
    ap.add_argument("--out", default="tools/results/format_bench.json", help="results JSON ('-' = stdout)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print("overhead…", file=sys.stderr)
        res = {"overhead": overhead()}
        print(f"throughput on ~{args.size_mb} MB…", file=sys.stderr)
        res["throughput"] = throughput(args.size_mb, tmp)
        print(f"probe of {args.segments} segments…", file=sys.stderr)
        res["probe"] = probe_time(args.segments, tmp)
    res["machine"] = {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                      "processor": platform.processor() or platform.machine()}
    text = json.dumps(res, indent=1)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
        print(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
