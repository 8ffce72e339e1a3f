"""Chunk bodies <-> the semantic model, with every value check of the spec.

Decoding checks live here once; the writer re-decodes each body it encodes,
so it can never emit something the reader refuses.  ``ctx`` arguments carry
what a check needs from earlier chunks (the model table, the dictionaries,
the current segment).
"""
from __future__ import annotations

import struct
from fractions import Fraction

from construct import ConstructError

from . import compression
from .chunks import Chunk
from .errors import (
    CMVCError, FieldError, LimitError, SeekIndexError, StructureError, VersionError,
)
from .model import (
    Caption, Dictionary, GenerationParams, IndexEntry, KeyframePayload, KeyframeRefId,
    ModelRef, Motion, Segment, StreamHeader,
)
from .registry import (
    FRAME_COUNT_UNKNOWN, MOTION_VALUES_PER_RECORD, NO_MODEL, READ_VERSION,
    CaptionCompression, Codec, ColorRange, Limits, Mode, MotionCoding, PixelFormat,
)
from .syntax import (
    CEND_BODY_SIZE, HEAD_FLAGS_RESERVED, INDEX_ENTRY_SIZE, KFRM_FLAG_RANDOM_ACCESS,
    KFRM_FLAGS_RESERVED, SEGM_FLAG_SCENE_CUT, CaptBody, CendBody, GenpBody, HeadBody,
    KfrmBody, MotionValue, MotnBody, SegmBody, SidxBody, ZdicBody,
)

_MOTION_VALUE_SIZE = MotionValue.sizeof()
_INDEX_ENTRY_FORMAT = ">QIII"
assert struct.calcsize(_INDEX_ENTRY_FORMAT) == INDEX_ENTRY_SIZE


def _parse(struct, chunk: Chunk):
    try:
        return struct.parse(chunk.body)
    except ConstructError as exc:
        raise FieldError(f"malformed {chunk.name} body: {_short(exc)}", chunk.offset) from None
    except UnicodeDecodeError:
        raise FieldError(f"invalid UTF-8 text in {chunk.name} chunk", chunk.offset) from None


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1][:120]


def _build(struct, value) -> bytes:
    try:
        return struct.build(value)
    except (ConstructError, UnicodeEncodeError) as exc:
        raise FieldError(f"cannot encode: {_short(exc)}") from None


def _check_size(width: int, height: int, what: str, offset: int) -> None:
    if width < 1 or height < 1:
        raise FieldError(f"{what} has zero width or height ({width}x{height})", offset)
    if width * height > Limits.PIXELS:
        raise LimitError(f"{what} of {width}x{height} exceeds the {Limits.PIXELS}-pixel limit", offset)


# --- HEAD (4.2) ---------------------------------------------------------------

def decode_head(chunk: Chunk) -> StreamHeader:
    off = chunk.offset
    # The versions come first and are checked first: a newer read_version may
    # change the meaning of everything after them.
    if len(chunk.body) >= 4:
        read_version = int.from_bytes(chunk.body[2:4], "big")
        if read_version > READ_VERSION:
            raise VersionError(f"stream needs a reader of version {read_version}; "
                               f"this one reads version {READ_VERSION}", off)
    c = _parse(HeadBody, chunk)
    if c.read_version == 0 or c.write_version < c.read_version:
        raise FieldError(f"invalid versions: write {c.write_version}, read {c.read_version}", off)
    _check_size(c.width, c.height, "picture", off)
    if not (c.frame_rate_num and c.frame_rate_den and c.time_base_num and c.time_base_den):
        raise FieldError("frame rate and time base must have non-zero terms", off)
    if c.pixel_format not in PixelFormat.__members__.values():
        raise FieldError(f"reserved pixel_format {c.pixel_format}", off)
    if c.chroma_location > 6:
        raise FieldError(f"reserved chroma_location {c.chroma_location}", off)
    if c.color_range not in ColorRange.__members__.values():
        raise FieldError(f"reserved color_range {c.color_range}", off)
    if c.flags & HEAD_FLAGS_RESERVED:
        raise FieldError(f"reserved HEAD flag bits set (0x{c.flags:02x})", off)
    models = []
    for m in c.models:
        if m.role == 0:
            raise FieldError(f"model {m.model_id!r} has the invalid role 0", off)
        if not m.model_id:
            raise FieldError("model with an empty id", off)
        models.append(ModelRef(m.role, m.model_id, bytes(m.sha256)))
    return StreamHeader(
        width=c.width, height=c.height,
        frame_rate=Fraction(c.frame_rate_num, c.frame_rate_den),
        time_base=Fraction(c.time_base_num, c.time_base_den),
        frame_count=None if c.frame_count == FRAME_COUNT_UNKNOWN else c.frame_count,
        pixel_format=c.pixel_format, chroma_location=c.chroma_location,
        color_primaries=c.color_primaries, transfer_characteristics=c.transfer_characteristics,
        matrix_coefficients=c.matrix_coefficients, color_range=c.color_range,
        encoder_name=c.encoder_name, encoder_version=c.encoder_version, models=models,
        write_version=c.write_version, read_version=c.read_version,
    )


def encode_head(h: StreamHeader) -> bytes:
    if len(h.models) > Limits.MODELS:
        raise LimitError(f"{len(h.models)} models exceed the limit of {Limits.MODELS}")
    fr, tb = Fraction(h.frame_rate), Fraction(h.time_base)
    return _build(HeadBody, dict(
        write_version=h.write_version, read_version=h.read_version,
        width=h.width, height=h.height,
        frame_rate_num=fr.numerator, frame_rate_den=fr.denominator,
        time_base_num=tb.numerator, time_base_den=tb.denominator,
        frame_count=FRAME_COUNT_UNKNOWN if h.frame_count is None else h.frame_count,
        pixel_format=h.pixel_format, chroma_location=h.chroma_location,
        color_primaries=h.color_primaries, transfer_characteristics=h.transfer_characteristics,
        matrix_coefficients=h.matrix_coefficients, color_range=h.color_range, flags=0,
        encoder_name=h.encoder_name, encoder_version=h.encoder_version,
        models=[dict(role=m.role, model_id=m.model_id, sha256=m.sha256) for m in h.models],
    ))


# --- ZDIC (4.4) ---------------------------------------------------------------

def decode_zdic(chunk: Chunk) -> Dictionary:
    c = _parse(ZdicBody, chunk)
    if c.dictionary_id == 0:
        raise FieldError("dictionary id 0 is reserved", chunk.offset)
    if len(c.data) > Limits.DICTIONARY:
        raise LimitError(f"dictionary of {len(c.data)} bytes exceeds {Limits.DICTIONARY}", chunk.offset)
    if not c.data:
        raise FieldError("empty dictionary", chunk.offset)
    return Dictionary(c.dictionary_id, bytes(c.data))


def encode_zdic(d: Dictionary) -> bytes:
    return _build(ZdicBody, dict(dictionary_id=d.dictionary_id, data=d.data))


# --- SEGM (5.1) ---------------------------------------------------------------

def decode_segm(chunk: Chunk) -> Segment:
    off = chunk.offset
    if len(chunk.body) >= 16:
        kf_count = int.from_bytes(chunk.body[14:16], "big")
        if kf_count > Limits.KEYFRAMES_PER_SEGMENT:
            raise LimitError(f"{kf_count} keyframes exceed the limit of "
                             f"{Limits.KEYFRAMES_PER_SEGMENT}", off)
    c = _parse(SegmBody, chunk)
    if c.frame_count == 0:
        raise FieldError(f"segment {c.segment_index} has no frames", off)
    if c.frame_count > Limits.SEGMENT_FRAMES:
        raise LimitError(f"segment of {c.frame_count} frames exceeds {Limits.SEGMENT_FRAMES}", off)
    if c.first_frame + c.frame_count > 0xFFFFFFFF:
        raise LimitError("segment ends past frame 2^32-1", off)
    if c.mode not in Mode.__members__.values():
        raise FieldError(f"segment {c.segment_index} has the reserved mode {c.mode}", off)
    kfs = list(c.keyframes)
    if any(b <= a for a, b in zip(kfs, kfs[1:])) or (kfs and kfs[-1] >= c.frame_count):
        raise FieldError(f"segment {c.segment_index}: keyframe positions must increase "
                         f"and lie inside the segment", off)
    return Segment(index=c.segment_index, first_frame=c.first_frame, frame_count=c.frame_count,
                   mode=c.mode, keyframes=kfs, scene_cut=bool(c.flags & SEGM_FLAG_SCENE_CUT))


def encode_segm(s: Segment) -> bytes:
    return _build(SegmBody, dict(
        segment_index=s.index, first_frame=s.first_frame, frame_count=s.frame_count,
        mode=s.mode, flags=SEGM_FLAG_SCENE_CUT if s.scene_cut else 0, keyframes=list(s.keyframes)))


# --- KFRM (5.2) ---------------------------------------------------------------

def decode_kfrm(chunk: Chunk, seg: Segment) -> KeyframePayload:
    off = chunk.offset
    c = _parse(KfrmBody, chunk)
    if c.keyframe_number >= len(seg.keyframes):
        raise FieldError(f"keyframe payload {c.keyframe_number} but segment {seg.index} "
                         f"has {len(seg.keyframes)} keyframes", off)
    if c.codec == 0:
        raise FieldError("codec id 0 is reserved", off)
    _check_size(c.width, c.height, "keyframe", off)
    if c.flags & KFRM_FLAGS_RESERVED:
        raise FieldError(f"reserved KFRM flag bits set (0x{c.flags:02x})", off)
    if len(c.refs) > Limits.KEYFRAME_REFS:
        raise LimitError(f"{len(c.refs)} references exceed {Limits.KEYFRAME_REFS}", off)
    rap = bool(c.flags & KFRM_FLAG_RANDOM_ACCESS)
    if c.codec == Codec.RAW and not rap:
        raise FieldError("a RAW keyframe payload is always random-access", off)
    if rap and c.refs:
        raise FieldError("a random-access keyframe payload cannot have references", off)
    if not rap and not c.refs:
        raise FieldError("a predicted keyframe payload needs at least one reference", off)
    refs = [KeyframeRefId(r.segment_index, r.keyframe_number) for r in c.refs]
    for r in refs:
        if (r.segment_index, r.keyframe_number) >= (seg.index, c.keyframe_number):
            raise FieldError(f"reference to keyframe {r.segment_index}/{r.keyframe_number} "
                             f"is not earlier than {seg.index}/{c.keyframe_number}", off)
    return KeyframePayload(keyframe_number=c.keyframe_number, codec=c.codec, width=c.width,
                           height=c.height, data=bytes(c.data), random_access=rap, refs=refs)


def encode_kfrm(p: KeyframePayload) -> bytes:
    return _build(KfrmBody, dict(
        keyframe_number=p.keyframe_number, codec=p.codec, width=p.width, height=p.height,
        flags=KFRM_FLAG_RANDOM_ACCESS if p.random_access else 0,
        refs=[dict(segment_index=r.segment_index, keyframe_number=r.keyframe_number)
              for r in p.refs],
        data=p.data))


# --- CAPT (5.3) ---------------------------------------------------------------

def decode_capt(chunk: Chunk, dictionaries: dict[int, Dictionary]) -> Caption:
    off = chunk.offset
    c = _parse(CaptBody, chunk)
    if c.text_length > Limits.CAPTION_TEXT:
        raise LimitError(f"caption of {c.text_length} bytes exceeds {Limits.CAPTION_TEXT}", off)
    if c.compression == CaptionCompression.NONE:
        if c.dictionary_id:
            raise FieldError("dictionary id set on an uncompressed caption", off)
        if len(c.data) != c.text_length:
            raise FieldError(f"caption holds {len(c.data)} bytes, declares {c.text_length}", off)
        raw = bytes(c.data)
    elif c.compression in (CaptionCompression.ZSTD, CaptionCompression.ZSTD_DICT):
        dictionary = None
        if c.compression == CaptionCompression.ZSTD_DICT:
            if c.dictionary_id not in dictionaries:
                raise StructureError(f"caption uses dictionary {c.dictionary_id}, "
                                     f"which the stream does not define", off)
            dictionary = dictionaries[c.dictionary_id].data
        elif c.dictionary_id:
            raise FieldError("dictionary id set on a caption compressed without one", off)
        raw = compression.decompress(bytes(c.data), c.text_length, offset=off,
                                     dictionary=dictionary)
    else:
        raise FieldError(f"reserved caption compression {c.compression}", off)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError("caption is not valid UTF-8", off) from None
    return Caption(kind=c.kind, text=text)


def encode_capt(cap: Caption, dictionary: Dictionary | None = None, *, compress: bool = True) -> bytes:
    raw = cap.text.encode("utf-8")
    if len(raw) > Limits.CAPTION_TEXT:
        raise LimitError(f"caption of {len(raw)} bytes exceeds {Limits.CAPTION_TEXT}")
    if not compress:
        mode, dict_id, data = CaptionCompression.NONE, 0, raw
    elif dictionary is not None:
        mode, dict_id = CaptionCompression.ZSTD_DICT, dictionary.dictionary_id
        data = compression.compress(raw, dictionary.data)
    else:
        mode, dict_id, data = CaptionCompression.ZSTD, 0, compression.compress(raw)
    return _build(CaptBody, dict(kind=cap.kind, compression=mode, dictionary_id=dict_id,
                                 text_length=len(raw), data=data))


# --- MOTN (5.4) ---------------------------------------------------------------

def decode_motn(chunk: Chunk, seg: Segment) -> Motion:
    off = chunk.offset
    c = _parse(MotnBody, chunk)
    vpr, n = c.values_per_record, c.record_count
    if c.model == 0:
        raise FieldError("motion model 0 is reserved", off)
    if vpr == 0:
        raise FieldError("values_per_record is 0", off)
    if vpr > Limits.MOTION_VALUES_PER_RECORD:
        raise LimitError(f"{vpr} values per record exceed {Limits.MOTION_VALUES_PER_RECORD}", off)
    expected_vpr = MOTION_VALUES_PER_RECORD.get(c.model)
    if expected_vpr is not None and vpr != expected_vpr:
        raise FieldError(f"motion model {c.model} has {expected_vpr} values per record, not {vpr}", off)
    if n != seg.frame_count:
        raise FieldError(f"{n} motion records for a segment of {seg.frame_count} frames", off)
    size = n * vpr * _MOTION_VALUE_SIZE
    if size > Limits.MOTION_DATA:
        raise LimitError(f"motion data of {size} bytes exceeds {Limits.MOTION_DATA}", off)
    if c.coding == MotionCoding.RAW:
        raw = bytes(c.data)
        if len(raw) != size:
            raise FieldError(f"motion data holds {len(raw)} bytes, expected {size}", off)
    elif c.coding == MotionCoding.ZSTD:
        raw = compression.decompress(bytes(c.data), size, offset=off)
    else:
        raise FieldError(f"reserved motion coding {c.coding}", off)
    flat = [int.from_bytes(raw[i:i + 2], "big", signed=True) for i in range(0, len(raw), 2)]
    records = [tuple(flat[i:i + vpr]) for i in range(0, len(flat), vpr)]
    return Motion(model=c.model, records=records, values_per_record=vpr)


def encode_motn(m: Motion, *, compress: bool = True) -> bytes:
    raw = b"".join(v.to_bytes(2, "big", signed=True) for rec in m.records for v in rec)
    if any(len(rec) != m.values_per_record for rec in m.records):
        raise FieldError("every motion record must have values_per_record values")
    packed = compression.compress(raw) if compress else raw
    coding = MotionCoding.ZSTD if compress else MotionCoding.RAW
    if compress and len(packed) >= len(raw):  # zstd's frame overhead loses on tiny data
        packed, coding = raw, MotionCoding.RAW
    return _build(MotnBody, dict(model=m.model, coding=coding, values_per_record=m.values_per_record,
                                 record_count=len(m.records), data=packed))


# --- GENP (5.5) ---------------------------------------------------------------

def decode_genp(chunk: Chunk, header: StreamHeader) -> GenerationParams:
    c = _parse(GenpBody, chunk)
    gm = None if c.generator_model == NO_MODEL else c.generator_model
    if gm is not None and gm >= len(header.models):
        raise FieldError(f"generator_model {gm} is not in the {len(header.models)}-entry "
                         f"model table", chunk.offset)
    return GenerationParams(generator_model=gm, seed=c.seed, steps=c.steps,
                            guidance_milli=c.guidance_milli, scheduler=c.scheduler,
                            params={p.key: p.value for p in c.params})


def encode_genp(g: GenerationParams) -> bytes:
    return _build(GenpBody, dict(
        generator_model=NO_MODEL if g.generator_model is None else g.generator_model,
        seed=g.seed, steps=g.steps, guidance_milli=g.guidance_milli, scheduler=g.scheduler,
        params=[dict(key=k, value=v) for k, v in g.params.items()]))


# --- sidx (6.1) ---------------------------------------------------------------

def decode_sidx(chunk: Chunk) -> list[IndexEntry]:
    off = chunk.offset
    body = chunk.body
    if len(body) < 4:
        raise SeekIndexError("seek index chunk too short", off)
    n = int.from_bytes(body[:4], "big")
    if n > Limits.INDEX_ENTRIES:
        raise LimitError(f"{n} index entries exceed {Limits.INDEX_ENTRIES}", off)
    if len(body) != 4 + n * INDEX_ENTRY_SIZE:
        raise SeekIndexError(f"seek index declares {n} entries but holds {len(body) - 4} bytes", off)
    # Same layout as syntax.IndexEntry; struct instead of construct because an
    # index of 10^4..10^7 entries is read on every random access (50x faster).
    entries = [IndexEntry(*e) for e in struct.iter_unpack(_INDEX_ENTRY_FORMAT, body[4:])]
    for i, e in enumerate(entries):
        if e.rap_segment > i:
            raise SeekIndexError(f"index entry {i}: random-access segment {e.rap_segment} "
                                 f"comes after it", off)
        if e.offset >= off:
            raise SeekIndexError(f"index entry {i} points at offset {e.offset}, "
                                 f"past the index itself", off)
    return entries


def encode_sidx(entries: list[IndexEntry]) -> bytes:
    return _build(SidxBody, dict(entries=[
        dict(offset=e.offset, first_frame=e.first_frame, frame_count=e.frame_count,
             rap_segment=e.rap_segment) for e in entries]))


# --- CEND (6.2) ---------------------------------------------------------------

def decode_cend(chunk: Chunk) -> int:
    if len(chunk.body) != CEND_BODY_SIZE:
        raise FieldError(f"CEND body is {len(chunk.body)} bytes, not {CEND_BODY_SIZE}", chunk.offset)
    return CendBody.parse(chunk.body).index_offset


def encode_cend(index_offset: int) -> bytes:
    return CendBody.build(dict(index_offset=index_offset))


__all__ = [n for n in dir() if n.startswith(("decode_", "encode_"))] + ["CMVCError"]
