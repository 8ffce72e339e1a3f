"""cmvc-probe: what a CMVC stream (bare .cmvc or inside an MKV) holds, in the
spirit of ffprobe: header, models, segments, bytes per payload kind, bitrate."""
from __future__ import annotations

import argparse
import json
import sys

from cmvc_format import probe as probe_stream
from cmvc_format.errors import CMVCError

from . import EXIT_DAMAGED, CLIError, add_common, run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cmvc-probe",
        description="Show what a CMVC stream holds (a bare .cmvc file, or the CMVC attachment of "
                    "an .mkv written by cmvc-mux).")
    p.add_argument("input", help="a .cmvc or .mkv file, or - for a bare stream on stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object (for machines)")
    p.add_argument("--index-only", action="store_true",
                   help="read only the header and the seek index (fast on long streams); "
                        "falls back to a full scan when the stream has no index")
    add_common(p)
    return p


def open_stream(path: str):
    """The bare CMVC stream of a path: a file object or bytes."""
    if path == "-":
        return sys.stdin.buffer
    with open(path, "rb") as fp:
        head = fp.read(8)
    from cmvc_format import SIGNATURE
    if head == SIGNATURE:
        return path
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML magic: Matroska / WebM
        try:
            from ffmpeg_bridge.mkv import read_cmvc_attachment  # imports av
        except ImportError as exc:
            raise CLIError(f"{path}: reading MKV needs the ffmpeg bridge ({exc})") from None
        return read_cmvc_attachment(path)
    raise CLIError(f"{path}: not a CMVC stream or an MKV file")


def format_text(info: dict, name: str) -> str:
    h = info["header"]
    lines = [f"Input: {name} (CMVC, write version {h['write_version']}, "
             f"read version {h['read_version']})"]
    frames = info.get("frames", 0)
    num, den = (int(x) for x in h["frame_rate"].split("/"))
    dur = frames * den / num if num else 0
    lines.append(f"  Video: {h['width']}x{h['height']}, {num / den:.6g} fps, {frames} frames "
                 f"({dur:.3f} s), {h['pixel_format']}, {h['color_range']} range, "
                 f"primaries/transfer/matrix {h['color_primaries']}/"
                 f"{h['transfer_characteristics']}/{h['matrix_coefficients']}")
    lines.append(f"  Encoder: {h['encoder_name']} {h['encoder_version']}".rstrip())
    if h["models"]:
        lines.append("  Models:")
        for i, m in enumerate(h["models"]):
            lines.append(f"    [{i}] {m['role']:<18} {m['id']}  sha256:{m['sha256'][:16]}…")
    segs = info["segments"]
    lines.append(f"  Segments: {len(segs)}" + (" (seek index)" if info.get("indexed") else ""))
    for s in segs:
        if s.get("damaged"):
            lines.append(f"    #{s['index'] if s['index'] is not None else '?'}  DAMAGED (segment at "
                         f"offset {s['offset']}): offset {s['error_offset']}: {s['reason']} "
                         f"({s['error']})")
            continue
        last = s["first_frame"] + s["frame_count"] - 1
        desc = f"    #{s['index']:<4} frames {s['first_frame']}-{last} ({s['frame_count']})"
        if "mode" in s:
            kb = sum(p["data"] for p in s["payloads"])
            desc += (f"  {s['mode'].upper()}{'  scene cut' if s['scene_cut'] else ''}"
                     f"  {len(s['keyframes'])} keyframes ({kb} B)  {s['captions']} captions")
        else:
            desc += f"  offset {s['offset']}  starts decoding at #{s['rap_segment']}"
        lines.append(desc)
    if "bytes" in info:
        parts = ", ".join(f"{k} {v}" for k, v in info["bytes"].items())
        lines.append(f"  Bytes: {info['size']} ({parts})")
    if "bitrate_kbps" in info:
        lines.append(f"  Bitrate: {info['bitrate_kbps']:.3f} kbps, {info['bpp']:.6f} bpp")
    for w in info.get("warnings", []):
        lines.append(f"  Warning: {w}")
    return "\n".join(lines)


def main_args(args: argparse.Namespace) -> int:
    source = open_stream(args.input)
    try:
        info = probe_stream(source, scan=not args.index_only)
    except CMVCError as exc:
        raise CLIError(f"{args.input}: {exc}") from None
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_text(info, args.input))
    return EXIT_DAMAGED if info.get("damaged_segments") else 0


def main(argv: list[str] | None = None) -> int:
    return run(main_args, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
