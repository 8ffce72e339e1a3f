#!/usr/bin/env python3
"""Generate the conformance vectors of spec/vectors/ (deterministically).

Valid vectors come with the full JSON dump a conforming parser must
reproduce; invalid ones (one defect each) with the error class and offset a
conforming reader reports.  Running this twice gives identical bytes; the
test suite regenerates them in memory and compares with the committed files.

    python tools/make_vectors.py [--out spec/vectors]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import struct
import sys
import zlib
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmvc_format import (  # noqa: E402
    AncillaryChunk, Caption, CaptionKind, CMVCError, Codec, Dictionary, GenerationParams,
    KeyframePayload, KeyframeRefId, Mode, ModelRef, ModelRole, Motion, MotionModel,
    Segment, StreamHeader, StreamWriter, read_stream, stream_to_json,
)
from cmvc_format.compression import train_dictionary  # noqa: E402
from cmvc_format.registry import SIGNATURE  # noqa: E402

import hashlib  # noqa: E402


PRIVATE_CODEC = 0x8000


class _Pipe(io.BytesIO):
    """A write-only, unseekable sink: what a writer sees on a pipe."""

    def seekable(self):
        return False

    def seek(self, *a):
        raise io.UnsupportedOperation("pipe")

    def tell(self):
        raise io.UnsupportedOperation("pipe")


def _raw_picture(w: int, h: int, seed: int) -> bytes:
    """A yuv420p picture with a deterministic gradient (codec RAW)."""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    y = bytes((16 + (x * 7 + r * 3 + seed * 11) % 220) for r in range(h) for x in range(w))
    u = bytes((128 + (x - r + seed) % 32) for r in range(ch) for x in range(cw))
    v = bytes((128 - (x + r + seed) % 32) for r in range(ch) for x in range(cw))
    return y + u + v


def _header(w=8, h=8, frames=None, models=()) -> StreamHeader:
    return StreamHeader(width=w, height=h, frame_rate=Fraction(25), time_base=Fraction(1, 25),
                        frame_count=frames, encoder_name="cmvc-vectors",
                        encoder_version="1", models=list(models))


def _models() -> list[ModelRef]:
    def sha(name):
        return hashlib.sha256(name.encode()).digest()
    return [ModelRef(ModelRole.INTERPOLATOR, "example-interpolator-1", sha("interp")),
            ModelRef(ModelRole.TEXT_TO_VIDEO, "example-t2v-1", sha("t2v"))]


def _it2v(index, first, count, kf_offsets, w=8, h=8, captions=True, motion=True, refs_from=None):
    payloads = []
    for k, off in enumerate(kf_offsets):
        if refs_from is None or (k == 0 and refs_from == "rap"):
            payloads.append(KeyframePayload(k, Codec.RAW, w, h, _raw_picture(w, h, first + off)))
        else:
            prev = (index, k - 1) if k else refs_from
            # Predicted payloads need a predictive codec; the vectors test the
            # container, so they use a private-use id (spec 10.2) with opaque data.
            payloads.append(KeyframePayload(k, PRIVATE_CODEC, w, h, _raw_picture(w, h, first + off),
                                            random_access=False, refs=[KeyframeRefId(*prev)]))
    caps = []
    if captions:
        caps = [Caption(CaptionKind.CONTENT, f"a grey gradient, segment {index}, drifts slowly"),
                Caption(CaptionKind.MOTION, "the camera pans right slowly")]
    mot = None
    if motion:
        mot = Motion(MotionModel.GLOBAL_SIMILARITY,
                     [(16 if i else 0, 0, 0, 0) for i in range(count)])
    return Segment(index=index, first_frame=first, frame_count=count, mode=Mode.IT2V,
                   keyframes=list(kf_offsets), payloads=payloads, captions=caps, motion=mot)


def _write(header, segments, *, sink=None, preamble=(), **options) -> bytes:
    buf = sink if sink is not None else io.BytesIO()
    w = StreamWriter(buf, header, **options)
    for anc in preamble:
        w.write_ancillary(anc)
    for s in segments:
        w.write_segment(s)
    w.close()
    return buf.getvalue()


# --- valid vectors --------------------------------------------------------------

def valid_vectors() -> dict[str, tuple[str, bytes]]:
    v = {}
    v["minimal"] = ("One 2x2 frame, one IT2V segment, one RAW keyframe; no index.", _write(
        _header(2, 2, 1), [Segment(index=0, first_frame=0, frame_count=1, keyframes=[0],
                                   payloads=[KeyframePayload(0, Codec.RAW, 2, 2, _raw_picture(2, 2, 0))])],
        index=False))
    v["multi_segment"] = ("Three IT2V segments with keyframes, zstd captions and motion; seek index.",
                          _write(_header(8, 8, 24), [_it2v(0, 0, 8, [0, 7]), _it2v(1, 8, 8, [0, 7]),
                                                     _it2v(2, 16, 8, [0, 4, 7])]))
    gen = GenerationParams(generator_model=1, seed=1234, steps=25, guidance_milli=7500,
                           scheduler="ddim", params={"negative_prompt": "blurry", "fps": "8"})
    tt2v = Segment(index=1, first_frame=10, frame_count=15, mode=Mode.TT2V, scene_cut=True,
                   captions=[Caption(CaptionKind.CONTENT, "a white boat crosses a blue lake"),
                             Caption(CaptionKind.MOTION, "the boat moves left to right; the camera is still")],
                   motion=Motion(MotionModel.GLOBAL_SIMILARITY, [(0, 0, 0, 0)] * 15),
                   generation=gen)
    it2v0 = _it2v(0, 0, 10, [0, 9])
    it2v0.generation = GenerationParams(generator_model=0, seed=7, scheduler="")
    v["both_modes"] = ("An IT2V segment, then a TT2V segment at a scene cut with generation "
                       "parameters; a model table.",
                       _write(_header(8, 8, 25, _models()), [it2v0, tt2v]))
    seg = _it2v(0, 0, 4, [0, 3])
    seg.ancillary = [AncillaryChunk(b"xnOT", b"an ancillary chunk inside a segment")]
    v["unknown_ancillary"] = ("Unknown ancillary chunks (tEST before the first segment, xnOT in a "
                              "segment): readers skip them.",
                              _write(_header(8, 8, 4), [seg],
                                     preamble=[AncillaryChunk(b"tEST", b"ignore me")]))
    v["pipe_no_index"] = ("Written to an unseekable sink without a seek index; frame count "
                          "unknown in the header.",
                          _write(_header(8, 8, None), [_it2v(0, 0, 5, [0, 4]), _it2v(1, 5, 5, [0, 4])],
                                 sink=_Pipe(), index=False))
    samples = [f"a grey gradient, segment {i}, drifts slowly; the camera pans right slowly "
               f"at {i} px per frame".encode() for i in range(64)]
    zd = Dictionary(0x8000_0001, train_dictionary(samples, 512, 0x8000_0001))
    v["caption_dictionary"] = ("Captions compressed with an embedded zstd dictionary (ZDIC).",
                               _write(_header(8, 8, 16), [_it2v(0, 0, 8, [0, 7]), _it2v(1, 8, 8, [0, 7])],
                                      caption_dictionary=zd))
    v["keyframe_track"] = ("Predicted keyframes: a keyframe track with a random-access point every "
                           "two segments (see rap_segment in the index).",
                           _write(_header(8, 8, 16), [
                               _it2v(0, 0, 4, [0, 3], refs_from="rap"),
                               _it2v(1, 4, 4, [0, 3], refs_from=(0, 1)),
                               _it2v(2, 8, 4, [0, 3], refs_from="rap"),
                               _it2v(3, 12, 4, [0, 3], refs_from=(2, 1))]))
    v["uncompressed"] = ("Uncompressed caption text and raw motion values.",
                         _write(_header(8, 8, 6), [_it2v(0, 0, 6, [0, 5])],
                                compress_captions=False, compress_motion=False))
    v["trailing_data"] = ("Bytes after CEND: not part of the stream; readers ignore them "
                          "(the footer cannot be found, so readers scan).",
                          v["minimal"][1] + b"trailing garbage\n")
    return v


# --- invalid vectors ------------------------------------------------------------

def _chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, body) of every chunk of a well-formed stream."""
    out, pos = [], len(SIGNATURE)
    while pos + 8 <= len(data):
        t, n = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        out.append((pos, t, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out


def _frame(t: bytes, body: bytes) -> bytes:
    return t + struct.pack(">I", len(body)) + body + struct.pack(">I", zlib.crc32(t + body))


def _replace_body(data: bytes, which: int, body: bytes) -> bytes:
    off, t, old = _chunks(data)[which]
    return data[:off] + _frame(t, body) + data[off + 12 + len(old):]


def _first(data: bytes, t: bytes) -> int:
    return next(i for i, (_, ct, _) in enumerate(_chunks(data)) if ct == t)


def invalid_vectors() -> dict[str, tuple[str, bytes]]:
    base = _write(_header(8, 8, 16), [_it2v(0, 0, 8, [0, 7]), _it2v(1, 8, 8, [0, 7])], index=False)
    indexed = _write(_header(8, 8, 16), [_it2v(0, 0, 8, [0, 7]), _it2v(1, 8, 8, [0, 7])])
    v = {}
    v["bad_signature"] = ("Signature damaged by a text-mode transfer (CR LF -> LF).",
                          base.replace(b"\r\n", b"\n", 1))
    k = _chunks(base)[_first(base, b"KFRM")]
    flip = k[0] + 8 + 20
    v["crc_mismatch"] = ("One byte of a keyframe payload changed; the CRC no longer matches.",
                         base[:flip] + bytes([base[flip] ^ 0x40]) + base[flip + 1:])
    v["truncated"] = ("The stream ends in the middle of the second segment.",
                      base[:_chunks(base)[-3][0] + 10])
    segm = _chunks(base)[_first(base, b"SEGM")][0]
    v["unknown_critical_chunk"] = ("A critical chunk of an unknown type (XTRA) before the first "
                                   "segment: a newer decoder is needed.",
                                   base[:segm] + _frame(b"XTRA", b"\x00" * 4) + base[segm:])
    off, t, body = _chunks(base)[_first(base, b"KFRM")]
    v["length_over_limit"] = ("A chunk length of 2^26 + 1, over the 64 MiB chunk limit.",
                              base[:off + 4] + struct.pack(">I", (1 << 26) + 1) + base[off + 8:])
    import zstandard
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\x00" * (64 << 20))
    capt = _first(base, b"CAPT")
    cbody = _chunks(base)[capt][2]
    bomb_body = cbody[:2] + struct.pack(">II", 0, 64) + bomb
    v["zstd_bomb"] = ("A caption that declares 64 bytes but decompresses to 64 MiB.",
                      _replace_body(base, capt, bomb_body))
    cend = len(_chunks(indexed)) - 1
    v["index_outside_file"] = ("CEND points at a seek index far beyond the end of the file.",
                               _replace_body(indexed, cend, struct.pack(">Q", 1 << 40)))
    hb = bytearray(_chunks(base)[0][2])
    hb[2:4] = struct.pack(">H", 2)
    hb[0:2] = struct.pack(">H", 2)
    v["read_version_too_new"] = ("HEAD declares read_version 2: this reader (version 1) must refuse.",
                                 _replace_body(base, 0, bytes(hb)))
    sb = bytearray(_chunks(base)[_first(base, b"SEGM")][2])
    sb[12] = 9
    v["reserved_mode"] = ("A segment with the reserved mode 9.",
                          _replace_body(base, _first(base, b"SEGM"), bytes(sb)))
    segs = [i for i, (_, t, _) in enumerate(_chunks(base)) if t == b"SEGM"]
    sb = bytearray(_chunks(base)[segs[1]][2])
    sb[4:8] = struct.pack(">I", 9)
    v["frame_gap"] = ("The second segment starts at frame 9, leaving frame 8 uncovered.",
                      _replace_body(base, segs[1], bytes(sb)))
    hb = bytearray(_chunks(base)[0][2])
    hb[34] |= 0x80
    v["reserved_flag_set"] = ("A reserved HEAD flag bit is set.", _replace_body(base, 0, bytes(hb)))
    v["no_cend"] = ("The stream stops cleanly after a chunk but has no CEND chunk.",
                    base[:_chunks(base)[-1][0]])
    return v


def expected_error(data: bytes) -> dict:
    try:
        read_stream(data)
    except CMVCError as exc:
        return {"error": type(exc).__name__, "offset": exc.offset, "reason": exc.reason}
    raise SystemExit("an invalid vector parsed without error")


def generate() -> dict[str, bytes]:
    """Every file of spec/vectors/, by relative path."""
    files: dict[str, bytes] = {}
    rows = ["# CMVC conformance vectors", "",
            "Generated by `python tools/make_vectors.py`; do not edit by hand. "
            "A conforming reader parses every `valid/*.cmvc` to the model in the `.json` beside "
            "it and refuses every `invalid/*.cmvc` with the error class (and byte offset) in "
            "its `.json`. Error classes are those of spec section 9.", "",
            "| file | bytes | expected | what it tests |", "|---|---|---|---|"]
    for name, (desc, data) in valid_vectors().items():
        files[f"valid/{name}.cmvc"] = data
        dump = stream_to_json(read_stream(data))
        files[f"valid/{name}.json"] = (json.dumps(dump, indent=1, sort_keys=True) + "\n").encode()
        rows.append(f"| valid/{name}.cmvc | {len(data)} | parses | {desc} |")
    for name, (desc, data) in invalid_vectors().items():
        files[f"invalid/{name}.cmvc"] = data
        err = expected_error(data)
        err["description"] = desc
        files[f"invalid/{name}.json"] = (json.dumps(err, indent=1, sort_keys=True) + "\n").encode()
        rows.append(f"| invalid/{name}.cmvc | {len(data)} | {err['error']} at {err['offset']} | {desc} |")
    files["README.md"] = ("\n".join(rows) + "\n").encode()
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "spec" / "vectors"),
                    help="output directory (default: spec/vectors)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    for rel, data in generate().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    print(f"wrote {len(generate())} files to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
