"""spec/cmvc.ksy describes the same bytes as cmvc_format.

The Kaitai Struct description is compiled to Python with the npm build of
kaitai-struct-compiler (tools/kaitai, installed by `make node`), and every
stream is parsed twice: by the generated parser and by cmvc_format's reader.
The two must agree field for field.  Kaitai Struct cannot compute CRCs or
decompress zstd, so this test does both from the fields Kaitai parsed.
"""
from __future__ import annotations

import enum
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cmvc_format
from cmvc_format import (
    AncillaryChunk, Caption, CaptionKind, Codec, ColorRange, Dictionary, GenerationParams,
    KeyframePayload, KeyframeRefId, Mode, ModelRef, ModelRole, Motion, MotionModel,
    PixelFormat, Segment, StreamHeader, StreamReader, StreamWriter, read_stream,
    stream_to_json, write_stream,
)
from cmvc_format import registry
from cmvc_format.compression import train_dictionary

ROOT = Path(__file__).resolve().parent.parent
KSY = ROOT / "spec" / "cmvc.ksy"
COMPILE_JS = ROOT / "tools" / "kaitai" / "compile.js"
COMPILER = ROOT / "tools" / "kaitai" / "node_modules" / "kaitai-struct-compiler"
VALID_VECTORS = sorted((ROOT / "spec" / "vectors" / "valid").glob("*.cmvc"))
SIGNATURE_SIZE = len(registry.SIGNATURE)
FOOTER_SIZE = 20


# --- the compiled description ---------------------------------------------------

@pytest.fixture(scope="session")
def ks(tmp_path_factory):
    """The module kaitai-struct-compiler generates from spec/cmvc.ksy."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed"
    elif not COMPILER.is_dir():
        missing = f"kaitai-struct-compiler is not installed in {COMPILER.parent}"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: run `make node` (the Kaitai check is required in CI)")
        pytest.skip(f"{missing} (run `make node` to enable the Kaitai check)")
    out = tmp_path_factory.mktemp("kaitai")
    proc = subprocess.run([node, str(COMPILE_JS), str(KSY), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"kaitai compile failed:\n{proc.stdout}\n{proc.stderr}"
    path = out / "cmvc.py"
    assert path.is_file(), f"the compiler wrote no cmvc.py: {proc.stdout}"
    spec = importlib.util.spec_from_file_location("cmvc_kaitai_generated", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- Kaitai's parse, rebuilt in the shape of probe.stream_to_json ------------------

def kname(value) -> str:
    """A Kaitai enum value as probe names it (unknown values stay plain ints)."""
    if isinstance(value, enum.Enum):
        return value.name.replace("_", "-")
    return f"reserved-{value}"


def raw_body(chunk) -> bytes:
    """The body bytes of a chunk, whether Kaitai parsed them or kept them raw."""
    return chunk._raw_body if hasattr(chunk, "_raw_body") else chunk.body


def chunk_offsets(k) -> tuple[list[int], int]:
    """Absolute offset of every chunk, and where the last one ends."""
    offsets, pos = [], SIGNATURE_SIZE
    for c in k.chunks:
        offsets.append(pos)
        pos += 12 + c.length
    return offsets, pos


def blob(data: bytes) -> dict:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def caption_text(body, dictionaries: dict[int, bytes]) -> str:
    """CAPT text, decompressing what Kaitai left compressed."""
    comp = int(body.compression)
    if comp == 0:
        assert body.dictionary_id == 0
        assert body.text == body.data.decode("utf-8")
        raw = body.data
    else:
        zdict = None
        if comp == 2:
            zdict = zstandard.ZstdCompressionDict(dictionaries[body.dictionary_id])
        else:
            assert comp == 1 and body.dictionary_id == 0
            assert body.text is None  # Kaitai gives text for uncompressed captions only
        dctx = zstandard.ZstdDecompressor(dict_data=zdict)
        raw = dctx.decompress(body.data, max_output_size=body.text_length)
    assert len(raw) == body.text_length
    return raw.decode("utf-8")


def motion_records(body) -> list[list[int]]:
    vpr, n = body.values_per_record, body.record_count
    if int(body.coding) == 0:
        records = [list(r.values) for r in body.records]
        assert len(body.data) == n * vpr * 2
    else:
        assert int(body.coding) == 1 and body.records is None
        raw = zstandard.ZstdDecompressor().decompress(body.data, max_output_size=n * vpr * 2)
        assert len(raw) == n * vpr * 2
        flat = [int.from_bytes(raw[i:i + 2], "big", signed=True) for i in range(0, len(raw), 2)]
        records = [flat[i:i + vpr] for i in range(0, len(flat), vpr)]
    assert len(records) == n
    return records


def head_json(h) -> dict:
    return {
        "write_version": h.write_version,
        "read_version": h.read_version,
        "width": h.width,
        "height": h.height,
        "frame_rate": _frac(h.frame_rate_num, h.frame_rate_den),
        "time_base": _frac(h.time_base_num, h.time_base_den),
        "frame_count": h.frame_count if h.frame_count_known else None,
        "pixel_format": kname(h.pixel_format),
        "chroma_location": h.chroma_location,
        "color_primaries": h.color_primaries,
        "transfer_characteristics": h.transfer_characteristics,
        "matrix_coefficients": h.matrix_coefficients,
        "color_range": kname(h.color_range),
        "encoder_name": h.encoder_name,
        "encoder_version": h.encoder_version,
        "models": [{"role": kname(m.role), "id": m.model_id, "sha256": m.sha256.hex()}
                   for m in h.models],
    }


def _frac(num: int, den: int) -> str:
    f = Fraction(num, den)
    return f"{f.numerator}/{f.denominator}"


def kaitai_to_json(k, data: bytes) -> dict:
    """What probe.stream_to_json would say, computed from Kaitai's parse only."""
    offsets, end = chunk_offsets(k)
    header = None
    dictionaries: dict[int, bytes] = {}
    segments: list[dict] = []
    index = None
    ancillary: list[dict] = []
    current: dict | None = None  # the segment payload chunks belong to
    for c in k.chunks:
        t, b = c.type, c.body
        if t == "HEAD":
            header = head_json(b)
        elif t == "ZDIC":
            dictionaries[b.dictionary_id] = b.data
        elif t == "SEGM":
            current = {
                "index": b.segment_index, "first_frame": b.first_frame,
                "frame_count": b.frame_count, "mode": kname(b.mode), "scene_cut": b.scene_cut,
                "keyframes": list(b.keyframes), "payloads": [], "captions": [],
            }
            segments.append(current)
        elif t == "KFRM":
            current["payloads"].append({
                "keyframe": b.keyframe_number, "codec": kname(b.codec),
                "width": b.width, "height": b.height, "random_access": b.random_access,
                "refs": [[r.segment_index, r.keyframe_number] for r in b.refs],
                "data": blob(b.data),
            })
        elif t == "CAPT":
            current["captions"].append({"kind": kname(b.kind),
                                        "text": caption_text(b, dictionaries)})
        elif t == "MOTN":
            current["motion"] = {"model": kname(b.model),
                                 "values_per_record": b.values_per_record,
                                 "records": motion_records(b)}
        elif t == "GENP":
            current["generation"] = {
                "generator_model": b.generator_model if b.has_generator_model else None,
                "seed": b.seed, "steps": b.steps, "guidance_milli": b.guidance_milli,
                "scheduler": b.scheduler, "params": {p.key: p.value for p in b.params},
            }
        elif t == "sidx":
            index = [{"offset": e.offset, "first_frame": e.first_frame,
                      "frame_count": e.frame_count, "rap_segment": e.rap_segment}
                     for e in b.entries]
            current = None  # chunks after the index belong to the stream
        elif t == "CEND":
            pass
        else:
            target = ancillary if current is None else current.setdefault("ancillary", [])
            target.append({"type": t, "body": raw_body(c).hex()})
    return {
        "header": header,
        "dictionaries": [{"id": i, **blob(d)} for i, d in dictionaries.items()],
        "segments": segments,
        "index": index,
        "ancillary": ancillary,
        "size": end,
        "trailing_bytes": len(data) - end,
    }


# --- the comparison -----------------------------------------------------------------

def check_stream(ks, data: bytes) -> None:
    """Parse with Kaitai and with cmvc_format; every field must agree."""
    ref = read_stream(data)
    k = ks.Cmvc.from_bytes(data)
    offsets, end = chunk_offsets(k)

    # Framing (spec 3): CRC of every chunk, criticality, CEND last, trailing bytes.
    for off, c in zip(offsets, k.chunks):
        type_bytes = c.type.encode("ascii")
        assert registry.is_valid_type(type_bytes), f"chunk at {off}"
        crc = zlib.crc32(type_bytes + raw_body(c)) & 0xFFFFFFFF
        assert c.crc32 == crc, f"{c.type} chunk at {off}: CRC mismatch"
        assert c.is_critical == registry.is_critical(type_bytes)
        assert c.is_ancillary == (not c.is_critical)
        assert data[off + 8:off + 8 + c.length] == raw_body(c)
    assert k.chunks[0].type == "HEAD"
    assert k.chunks[-1].type == "CEND" and k.chunks[-1].length == 8
    assert end == ref.size
    assert len(data) - end == ref.trailing_bytes

    # Everything the reference dump holds, computed from Kaitai's fields alone.
    assert kaitai_to_json(k, data) == stream_to_json(ref)

    # Header (spec 4.2) against the semantic model directly.
    h, rh = k.chunks[0].body, ref.header
    assert (h.write_version, h.read_version) == (rh.write_version, rh.read_version)
    assert (h.width, h.height) == (rh.width, rh.height)
    assert Fraction(h.frame_rate_num, h.frame_rate_den) == rh.frame_rate
    assert Fraction(h.time_base_num, h.time_base_den) == rh.time_base
    assert (h.frame_count if h.frame_count_known else None) == rh.frame_count
    assert int(h.pixel_format) == rh.pixel_format
    assert int(h.color_range) == rh.color_range
    assert (h.chroma_location, h.color_primaries, h.transfer_characteristics,
            h.matrix_coefficients) == (rh.chroma_location, rh.color_primaries,
                                       rh.transfer_characteristics, rh.matrix_coefficients)
    assert h.reserved_flags == 0
    if h.write_version == 1:  # fields appended by later revisions only (spec 4.1)
        assert h.extension == b""
        assert all(c.body.extension == b"" for c in k.chunks if c.type == "SEGM")
    assert (h.encoder_name, h.encoder_version) == (rh.encoder_name, rh.encoder_version)
    assert len(h.models) == h.model_count == len(rh.models)
    for m, rm in zip(h.models, rh.models):
        assert (int(m.role), m.model_id, m.sha256) == (rm.role, rm.model_id, rm.sha256)

    # Dictionaries (spec 4.4), byte for byte.
    zdics = [c.body for c in k.chunks if c.type == "ZDIC"]
    assert {z.dictionary_id: z.data for z in zdics} == {
        i: d.data for i, d in ref.dictionaries.items()}

    # Segments (spec 5), payload bytes compared exactly rather than by hash.
    segm_offsets = [off for off, c in zip(offsets, k.chunks) if c.type == "SEGM"]
    segms = [c.body for c in k.chunks if c.type == "SEGM"]
    assert len(segms) == len(ref.segments)
    for s, rs in zip(segms, ref.segments):
        assert (s.segment_index, s.first_frame, s.frame_count, int(s.mode), list(s.keyframes),
                s.scene_cut) == (rs.index, rs.first_frame, rs.frame_count, rs.mode,
                                 rs.keyframes, rs.scene_cut)
        assert s.keyframe_count == len(rs.keyframes)
    kfrms = [c.body for c in k.chunks if c.type == "KFRM"]
    ref_payloads = [p for rs in ref.segments for p in rs.payloads]
    assert len(kfrms) == len(ref_payloads)
    for p, rp in zip(kfrms, ref_payloads):
        assert (p.keyframe_number, int(p.codec), p.width, p.height, p.random_access,
                [KeyframeRefId(r.segment_index, r.keyframe_number) for r in p.refs],
                p.data) == (rp.keyframe_number, rp.codec, rp.width, rp.height,
                            rp.random_access, rp.refs, rp.data)
        assert p.reserved_flags == 0 and p.ref_count == len(rp.refs)
    motns = [c.body for c in k.chunks if c.type == "MOTN"]
    ref_motion = [rs.motion for rs in ref.segments if rs.motion is not None]
    assert [[tuple(r) for r in motion_records(m)] for m in motns] == [
        rm.records for rm in ref_motion]
    assert [(int(m.model), m.values_per_record) for m in motns] == [
        (rm.model, rm.values_per_record) for rm in ref_motion]
    genps = [c.body for c in k.chunks if c.type == "GENP"]
    ref_gen = [rs.generation for rs in ref.segments if rs.generation is not None]
    assert [GenerationParams(g.generator_model if g.has_generator_model else None, g.seed,
                             g.steps, g.guidance_milli, g.scheduler,
                             {p.key: p.value for p in g.params}) for g in genps] == ref_gen
    for g, rg in zip(genps, ref_gen):  # parameter order is kept too
        assert [(p.key, p.value) for p in g.params] == list(rg.params.items())

    # Seek index (spec 6.1) and CEND (spec 6.2).
    sidx = [(off, c.body) for off, c in zip(offsets, k.chunks) if c.type == "sidx"]
    cend = k.chunks[-1].body
    if ref.index is None:
        assert sidx == [] and cend.index_offset == 0
    else:
        (sidx_offset, body), = sidx
        assert k.chunks[-2].length == 4 + 20 * body.entry_count  # spec 6.1
        assert cend.index_offset == sidx_offset
        assert body.entry_count == len(body.entries) == len(ref.index)
        assert [cmvc_format.IndexEntry(e.offset, e.first_frame, e.frame_count, e.rap_segment)
                for e in body.entries] == ref.index
        assert [e.offset for e in body.entries] == segm_offsets
        assert sidx_offset + 12 + k.chunks[-2].length == offsets[-1]  # sidx just before CEND

    # The footer and the seek index found through it (spec 6), as a seeking reader does.
    with StreamReader(data) as reader:
        via_footer = reader.index()
    if ref.trailing_bytes:
        assert not k.has_footer and k.footer is None and k.seek_index is None
        assert via_footer is None
    else:
        assert k.has_footer
        f = k.footer
        assert (f.type, f.length, f.body.index_offset) == ("CEND", 8, cend.index_offset)
        assert f.crc32 == zlib.crc32(b"CEND" + raw_body(f)) & 0xFFFFFFFF == k.chunks[-1].crc32
        if cend.index_offset == 0:
            assert k.seek_index is None and via_footer is None
        else:
            si = k.seek_index
            assert si.type == "sidx"
            assert si.crc32 == zlib.crc32(b"sidx" + raw_body(si)) & 0xFFFFFFFF
            assert [cmvc_format.IndexEntry(e.offset, e.first_frame, e.frame_count,
                                           e.rap_segment) for e in si.body.entries] == via_footer


# --- (a) the conformance vectors ------------------------------------------------------

def test_enough_valid_vectors():
    assert len(VALID_VECTORS) >= 5, (
        f"expected at least 5 spec/vectors/valid/*.cmvc, found {len(VALID_VECTORS)}")


@pytest.mark.parametrize("path", VALID_VECTORS, ids=lambda p: p.stem)
def test_valid_vector(ks, path):
    check_stream(ks, path.read_bytes())


# --- (b) streams written here, covering every chunk type and option --------------------

SHA = [hashlib.sha256(bytes([i])).digest() for i in range(4)]
MODELS = [
    ModelRef(ModelRole.TEXT_TO_VIDEO, "cmvc/t2v-small", SHA[0]),
    ModelRef(ModelRole.INTERPOLATOR, "cmvc/interp", SHA[1]),
    ModelRef(ModelRole.KEYFRAME_CODEC, "cmvc/lic-\u00e9t\u00e9", SHA[2]),
    ModelRef(200, "future/role", SHA[3]),  # an unregistered role is kept
]
CAPTIONS = [
    "A red kite rises over a windy beach at dusk; the camera follows it slowly.",
    "Two children run along the waterline, waves breaking behind them.",
    "Close-up of a dog shaking sand off its fur, in slow motion.",
    "Wide shot: the sun sets behind the pier, gulls circling \u2014 \u65e5\u843d.",
]


def _header(frame_count=None, **kw) -> StreamHeader:
    return StreamHeader(width=64, height=48, frame_rate=Fraction(30000, 1001),
                        time_base=Fraction(1, 90000), frame_count=frame_count,
                        models=list(MODELS), encoder_name="cmvc-test",
                        encoder_version="0.1+\u03b1", **kw)


def _segments() -> list[Segment]:
    long_value = "x" * 300 + "\u00fc"  # needs the u(16) length of GENP values
    return [
        # IT2V, scene cut, random-access + predicted payloads, motion (compressible).
        Segment(index=0, first_frame=0, frame_count=48, mode=Mode.IT2V, keyframes=[0, 24, 47],
                scene_cut=True,
                payloads=[
                    KeyframePayload(0, Codec.RAW, 64, 48, bytes(range(256)) * 18),
                    KeyframePayload(1, Codec.AV1, 64, 48, b"\x12\x00\x0a\x0bav1",
                                    random_access=False, refs=[KeyframeRefId(0, 0)]),
                    KeyframePayload(2, Codec.CMVC_LIC, 32, 24, b"lic" * 10,
                                    random_access=False,
                                    refs=[KeyframeRefId(0, 0), KeyframeRefId(0, 1)]),
                ],
                captions=[Caption(CaptionKind.MOTION, CAPTIONS[0])],
                motion=Motion(MotionModel.GLOBAL_SIMILARITY,
                              [(16 * (i % 3), -16, 0, -1) for i in range(48)]),
                generation=GenerationParams(generator_model=1, seed=2**64 - 1, steps=30,
                                            guidance_milli=7500, scheduler="dpm++",
                                            params={"strength": "0.75", "\u00fcber": long_value,
                                                    "": ""})),
        # TT2V: content + motion captions, an unknown caption kind, no payloads.
        Segment(index=1, first_frame=48, frame_count=30, mode=Mode.TT2V, keyframes=[],
                captions=[Caption(CaptionKind.CONTENT, CAPTIONS[1]),
                          Caption(CaptionKind.MOTION, CAPTIONS[2]),
                          Caption(9, "")],
                generation=GenerationParams(generator_model=None, seed=42, steps=4,
                                            guidance_milli=0, scheduler="",
                                            params={})),
        # IT2V predicted across segments, incompressible motion of an unknown model,
        # an ancillary chunk inside the segment.
        Segment(index=2, first_frame=78, frame_count=5, mode=Mode.IT2V, keyframes=[2],
                payloads=[KeyframePayload(0, Codec.AV1, 64, 48, b"\x00" * 7, random_access=False,
                                          refs=[KeyframeRefId(0, 2), KeyframeRefId(0, 0)])],
                motion=Motion(77, [(32767, -32768, 1), (0, 0, 0), (-1, 1, -2), (5, 6, 7),
                                   (-300, 300, 9)], values_per_record=3),
                ancillary=[AncillaryChunk(b"tEST", b"inside segment 2")]),
        # TT2V with its own random-access keyframe and a scene cut.
        Segment(index=3, first_frame=83, frame_count=1, mode=Mode.TT2V, keyframes=[0],
                scene_cut=True,
                payloads=[KeyframePayload(0, 0x8001, 1, 1, b"")],  # private-use codec
                captions=[Caption(CaptionKind.CONTENT, CAPTIONS[3])]),
    ]


def _raw_content_dictionary() -> Dictionary:
    return Dictionary(0x8001, " ".join(CAPTIONS).encode("utf-8"))


def _trained_dictionary() -> Dictionary:
    words = ["kite", "beach", "dusk", "camera", "children", "waves", "sunset", "pier",
             "gulls", "slow", "motion", "close-up", "wide", "shot", "dog", "sand"]
    samples = [f"{words[i % 16]} {words[(i * 7) % 16]} over the {words[(i * 3) % 16]}, "
               f"shot {i}: the camera pans {words[(i * 5) % 16]}.".encode() for i in range(400)]
    return Dictionary(0xCAFE, train_dictionary(samples, 2048, 0xCAFE))


def _stream(*, header=None, segments=None, ancillary_first=False, between=False, **options):
    """write_stream, optionally with ancillary chunks before/between segments."""
    header = header or _header(frame_count=84)
    segments = _segments() if segments is None else segments
    buf = io.BytesIO()
    with StreamWriter(buf, header, **options) as w:
        if ancillary_first:
            w.write_ancillary(AncillaryChunk(b"tEST", b"before the first segment"))
            w.write_ancillary(AncillaryChunk(b"zZzz", b""))
        for seg in segments:
            w.write_segment(seg)
            if between:
                w.write_ancillary(AncillaryChunk(b"tEST", b"after segment %d" % seg.index))
    return buf.getvalue()


STREAMS = {
    "default": lambda: _stream(),
    "unknown_frame_count": lambda: write_stream(_header(), _segments()),
    "uncompressed_no_index": lambda: _stream(index=False, compress_captions=False,
                                             compress_motion=False),
    "raw_content_dictionary": lambda: _stream(caption_dictionary=_raw_content_dictionary()),
    "trained_dictionary": lambda: _stream(caption_dictionary=_trained_dictionary()),
    "ancillary_everywhere": lambda: _stream(ancillary_first=True, between=True),
    "header_options": lambda: _stream(header=_header(
        frame_count=84, pixel_format=PixelFormat.RGB24, color_range=ColorRange.FULL,
        chroma_location=6, color_primaries=9, transfer_characteristics=16,
        matrix_coefficients=0)),
    "no_models_one_segment": lambda: write_stream(
        StreamHeader(width=16, height=16, frame_rate=Fraction(25), time_base=Fraction(1, 25),
                     frame_count=1, pixel_format=PixelFormat.GRAY,
                     color_range=ColorRange.UNSPECIFIED, encoder_name="", models=[]),
        [Segment(index=0, first_frame=0, frame_count=1, mode=Mode.TT2V,
                 captions=[Caption(CaptionKind.CONTENT, "one frame")])]),
    "no_segments": lambda: write_stream(_header(frame_count=0), []),
    "no_segments_no_index": lambda: write_stream(_header(), [], index=False),
    "trailing_bytes": lambda: _stream() + b"\x00trailing bytes after CEND\xff",
    "trailing_bytes_no_index": lambda: _stream(index=False) + b"\n",
    "trailing_bytes_footer_sized": lambda: _stream() + bytes(FOOTER_SIZE),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_written_stream(ks, name):
    check_stream(ks, STREAMS[name]())


def test_written_streams_cover_every_option(ks):
    """The streams above really hold every chunk type, mode, flag and compression."""
    seen_types, seen = set(), set()
    for make in STREAMS.values():
        k = ks.Cmvc.from_bytes(make())
        for c in k.chunks:
            seen_types.add(c.type)
            b = c.body
            if c.type == "SEGM":
                seen |= {("mode", int(b.mode)), ("scene_cut", b.scene_cut)}
            elif c.type == "KFRM":
                seen |= {("random_access", b.random_access), ("codec", int(b.codec))}
            elif c.type == "CAPT":
                seen |= {("caption", int(b.compression)), ("kind", int(b.kind))}
            elif c.type == "MOTN":
                seen |= {("motion", int(b.coding))}
            elif c.type == "GENP":
                seen |= {("generator", b.has_generator_model)}
            elif c.type == "CEND":
                seen |= {("index", b.index_offset != 0)}
    assert seen_types == {"HEAD", "ZDIC", "SEGM", "KFRM", "CAPT", "MOTN", "GENP", "sidx",
                          "CEND", "tEST", "zZzz"}
    assert {("mode", 1), ("mode", 2), ("scene_cut", True), ("scene_cut", False),
            ("random_access", True), ("random_access", False),
            ("codec", 1), ("codec", 2), ("codec", 3), ("codec", 0x8001),
            ("caption", 0), ("caption", 1), ("caption", 2), ("kind", 0), ("kind", 1),
            ("kind", 9), ("motion", 0), ("motion", 1), ("generator", True),
            ("generator", False), ("index", True), ("index", False)} <= seen


def test_stream_ends_at_cend_not_at_eof(ks):
    """Bytes after CEND are not parsed, even when they look like chunks (spec 6.2)."""
    data = _stream()
    extra = data[SIGNATURE_SIZE:]  # a whole second set of chunks
    k = ks.Cmvc.from_bytes(data + extra)
    assert k.chunks[-1].type == "CEND" and k.chunks[-1].length == 8
    assert chunk_offsets(k)[1] == len(data)
    # The footer lookup sees the copy's CEND: the reason it is only valid without
    # trailing bytes.  cmvc_format's seeking reader refuses it; so must any reader.
    assert k.has_footer
    with pytest.raises(cmvc_format.SeekIndexError):
        StreamReader(data + extra).index()


def test_enums_match_registry(ks):
    pairs = [
        (ks.Cmvc.PixelFormat, PixelFormat), (ks.Cmvc.ColorRange, ColorRange),
        (ks.Cmvc.Mode, Mode), (ks.Cmvc.Codec, Codec), (ks.Cmvc.ModelRole, ModelRole),
        (ks.Cmvc.CaptionKind, CaptionKind),
        (ks.Cmvc.CaptionCompression, registry.CaptionCompression),
        (ks.Cmvc.MotionModel, MotionModel), (ks.Cmvc.MotionCoding, registry.MotionCoding),
    ]
    for kaitai_enum, registry_enum in pairs:
        assert {m.value: m.name for m in kaitai_enum} == {
            m.value: m.name.lower() for m in registry_enum}, registry_enum.__name__


def test_signature_is_checked(ks):
    import kaitaistruct

    data = bytearray(_stream())
    data[4] ^= 0x20  # "CMV" -> "CMv"
    with pytest.raises(kaitaistruct.ValidationNotEqualError):
        ks.Cmvc.from_bytes(bytes(data))


def test_genp_trailing_bytes_are_refused(ks):
    """GENP has no room for extension (spec 5.5): the .ksy refuses extra bytes,
    as cmvc_format does."""
    import kaitaistruct

    data = _stream()
    k = ks.Cmvc.from_bytes(data)
    offsets, _ = chunk_offsets(k)
    i = next(i for i, c in enumerate(k.chunks) if c.type == "GENP")
    off, c = offsets[i], k.chunks[i]
    body = raw_body(c) + b"\x00"
    chunk = (b"GENP" + len(body).to_bytes(4, "big") + body
             + (zlib.crc32(b"GENP" + body) & 0xFFFFFFFF).to_bytes(4, "big"))
    bad = data[:off] + chunk + data[off + 12 + c.length:]
    with pytest.raises(kaitaistruct.ValidationExprError):
        ks.Cmvc.from_bytes(bad)
    with pytest.raises(cmvc_format.CMVCError):
        read_stream(bad)


# --- (c) arbitrary streams -----------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_str8 = _text.filter(lambda t: len(t.encode()) < 256)


@st.composite
def _random_stream(draw) -> bytes:
    models = draw(st.lists(st.builds(ModelRef, st.integers(1, 255), _str8.filter(bool),
                                     st.binary(min_size=32, max_size=32)), max_size=3))
    segments, first = [], 0
    for index in range(draw(st.integers(0, 4))):
        count = draw(st.integers(1, 30))
        mode = draw(st.sampled_from([Mode.IT2V, Mode.TT2V]))
        kfs = sorted(draw(st.sets(st.integers(0, count - 1), max_size=3,
                                  min_size=1 if mode == Mode.IT2V else 0)))
        coded = range(len(kfs)) if mode == Mode.IT2V else range(draw(st.integers(0, len(kfs))))
        payloads = []
        for k in coded:
            earlier = [(index, j) for j in range(k)] + [
                (s.index, p.keyframe_number) for s in segments for p in s.payloads]
            refs = draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)
                        if earlier else st.just([]))
            codec = draw(st.integers(2, 0xFFFF) if refs else st.integers(1, 0xFFFF))  # RAW is intra only
            payloads.append(KeyframePayload(
                k, codec, draw(st.integers(1, 256)),
                draw(st.integers(1, 256)), draw(st.binary(max_size=40)),
                random_access=not refs, refs=[KeyframeRefId(*r) for r in refs]))
        captions = [Caption(draw(st.integers(0, 255)), draw(_text)) for _ in range(draw(st.integers(0, 2)))]
        if mode == Mode.TT2V:
            captions.append(Caption(CaptionKind.CONTENT, draw(_text)))
        motion = None
        if draw(st.booleans()):
            model = draw(st.sampled_from([MotionModel.GLOBAL_SIMILARITY, 2, 200]))
            vpr = 4 if model == MotionModel.GLOBAL_SIMILARITY else draw(st.integers(1, 16))
            value = st.integers(-32768, 32767)
            motion = Motion(model, [tuple(draw(value) for _ in range(vpr)) for _ in range(count)], vpr)
        generation = None
        if draw(st.booleans()):
            generation = GenerationParams(
                draw(st.one_of(st.none(), st.integers(0, len(models) - 1)) if models else st.none()),
                draw(st.integers(0, 2**64 - 1)), draw(st.integers(0, 0xFFFF)),
                draw(st.integers(0, 2**32 - 1)), draw(_str8),
                draw(st.dictionaries(_str8, _text, max_size=3)))
        ancillary = [AncillaryChunk(b"tEST", draw(st.binary(max_size=10)))] if draw(st.booleans()) else []
        segments.append(Segment(index, first, count, mode, kfs, draw(st.booleans()), payloads,
                                captions, motion, generation, ancillary))
        first += count
    header = StreamHeader(
        width=draw(st.integers(1, 4096)), height=draw(st.integers(1, 4096)),
        frame_rate=Fraction(draw(st.integers(1, 2**32 - 1)), draw(st.integers(1, 2**32 - 1))),
        time_base=Fraction(1, draw(st.integers(1, 2**32 - 1))),
        frame_count=draw(st.sampled_from([first, None])),
        pixel_format=draw(st.sampled_from(list(PixelFormat))),
        chroma_location=draw(st.integers(0, 6)), color_primaries=draw(st.integers(0, 255)),
        color_range=draw(st.sampled_from(list(ColorRange))),
        encoder_name=draw(_str8), encoder_version=draw(_str8), models=models)
    dictionary = draw(st.one_of(st.none(), st.just(_raw_content_dictionary())))
    data = write_stream(header, segments, index=draw(st.booleans()),
                        caption_dictionary=dictionary,
                        compress_captions=draw(st.booleans()),
                        compress_motion=draw(st.booleans()))
    return data + draw(st.sampled_from([b"", b"\x00", b"trailing"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=_random_stream())
def test_arbitrary_stream(ks, data):
    check_stream(ks, data)
