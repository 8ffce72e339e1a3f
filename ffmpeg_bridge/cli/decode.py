"""cmvc-decode: regenerate the frames of a CMVC stream (in an MKV or bare)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import EXIT_DAMAGED, CLIError, add_common, run
from .io import check_output_path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cmvc-decode",
        description="Decode a CMVC stream (an .mkv from cmvc-mux, a bare .cmvc, or - for a bare "
                    "stream on stdin) into frames: - writes YUV4MPEG2 to stdout (pipe it into "
                    "`ffmpeg -i -`); a .y4m, .mkv, .mp4, .mov or .webm name writes that file.",
        epilog="exit status: 0 ok, 1 error (nothing written), 2 bad arguments, 3 decoded but "
               "damaged segments were reported and concealed")
    p.add_argument("input", help="input .mkv, .cmvc, or -")
    p.add_argument("output", help="- for Y4M on stdout, or an output file")
    p.add_argument("--generator", choices=("rife", "blend", "hold"),
                   help="how frames between keyframes are made (default: the stream's "
                        "interpolator, RIFE)")
    p.add_argument("--device", default="cpu", help="torch device for the generator (cpu, cuda)")
    p.add_argument("--report", metavar="FILE", help="write a JSON decode report ('-' = stderr)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    add_common(p)
    return p


def load_stream(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    from ..mkv import is_matroska, read_cmvc_attachment
    if is_matroska(path):
        return read_cmvc_attachment(path)
    with open(path, "rb") as fp:
        return fp.read()


def main_args(a: argparse.Namespace) -> int:
    from cmvc_format import CMVCError

    from ..decoder import DecodeReport, colors_of, decode, stderr_damage
    from ..video_io import progress, write_video
    from ..y4m import Y4MWriter

    check_output_path(a.input, a.output)
    ext = os.path.splitext(a.output)[1].lower()
    if a.output != "-" and ext not in (".y4m", ".mkv", ".mp4", ".mov", ".webm"):
        raise CLIError(f"{a.output}: output must be -, .y4m, .mkv, .mp4, .mov or .webm")
    data = load_stream(a.input)
    report = DecodeReport()
    try:
        header, frames = decode(data, generator=a.generator, device=a.device,
                                on_damage=stderr_damage, report=report)
    except CMVCError as exc:
        raise CLIError(f"{a.input}: {exc} ({type(exc).__name__})") from None
    total = header.frame_count
    with progress(total, "decode", a.quiet) as bar:
        def counted():
            for f in frames:
                bar.update(1)
                yield f
        if a.output == "-":
            out = sys.stdout.buffer
            writer = Y4MWriter(out, header.width, header.height, header.frame_rate, colors_of(header))
            for f in counted():
                writer.write(f)
            out.flush()
        else:
            write_video(counted(), a.output, fps=header.frame_rate, colors=colors_of(header),
                        width=header.width, height=header.height)
    if a.report:
        text = json.dumps({"frames": report.frames, "segments": report.segments,
                           "damaged": report.damaged, "generator": report.generator}, indent=1)
        if a.report == "-":
            print(text, file=sys.stderr)
        else:
            with open(a.report, "w") as fp:
                fp.write(text + "\n")
    return EXIT_DAMAGED if report.damaged else 0


def main(argv: list[str] | None = None) -> int:
    return run(main_args, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
