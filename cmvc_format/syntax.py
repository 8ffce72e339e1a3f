"""The CMVC v1 syntax as construct definitions, one per table of spec/CMVC.md.

Each structure sits beside the spec section it mirrors, field for field and in
the same order. Nothing here does I/O or semantic checks: chunk framing and CRC
are in ``chunks.py``, value checks in ``bodies.py``. All integers are
big-endian (spec 2).
"""
from __future__ import annotations

from construct import (
    Bytes,
    Const,
    GreedyBytes,
    Int8ub,
    Int16sb,
    Int16ub,
    Int32ub,
    Int64ub,
    PascalString,
    PrefixedArray,
    Struct,
    Terminated,
)

from .registry import SIGNATURE

# --- 3.1 Signature -----------------------------------------------------------
Signature = Const(SIGNATURE)

# --- 3.2 Chunk framing -------------------------------------------------------
# type b(32) | length u(32) | body[length] | crc u(32)
ChunkHead = Struct(
    "type" / Bytes(4),
    "length" / Int32ub,
)
ChunkCrc = Int32ub
CHUNK_HEAD_SIZE = 8
CHUNK_OVERHEAD = 12  # head + CRC

# --- 4.3 Model table entry ---------------------------------------------------
ModelEntry = Struct(
    "role" / Int8ub,
    "model_id" / PascalString(Int8ub, "utf8"),
    "sha256" / Bytes(32),
)

# --- 4.2 HEAD: stream header -------------------------------------------------
HeadBody = Struct(
    "write_version" / Int16ub,
    "read_version" / Int16ub,
    "width" / Int16ub,
    "height" / Int16ub,
    "frame_rate_num" / Int32ub,
    "frame_rate_den" / Int32ub,
    "time_base_num" / Int32ub,
    "time_base_den" / Int32ub,
    "frame_count" / Int32ub,
    "pixel_format" / Int8ub,
    "chroma_location" / Int8ub,
    "color_primaries" / Int8ub,
    "transfer_characteristics" / Int8ub,
    "matrix_coefficients" / Int8ub,
    "color_range" / Int8ub,
    "flags" / Int8ub,
    "encoder_name" / PascalString(Int8ub, "utf8"),
    "encoder_version" / PascalString(Int8ub, "utf8"),
    "models" / PrefixedArray(Int8ub, ModelEntry),
    # Later write versions may append fields here; readers ignore them (4.1).
)
HEAD_FLAGS_RESERVED = 0xF0  # must be zero; a reader refuses a stream that sets them
HEAD_FLAGS_UNUSED = 0x0F    # written as zero, ignored on reading

# --- 4.4 ZDIC: caption dictionary --------------------------------------------
ZdicBody = Struct(
    "dictionary_id" / Int32ub,
    "data" / GreedyBytes,
)

# --- 5.1 SEGM: segment header ------------------------------------------------
SegmBody = Struct(
    "segment_index" / Int32ub,
    "first_frame" / Int32ub,
    "frame_count" / Int32ub,
    "mode" / Int8ub,
    "flags" / Int8ub,
    "keyframes" / PrefixedArray(Int16ub, Int32ub),
    # Later write versions may append fields here; readers ignore them (4.1).
)
SEGM_FLAG_SCENE_CUT = 0x01  # bits 1..7 unused: written as zero, ignored

# --- 5.2 KFRM: keyframe payload ----------------------------------------------
KeyframeRef = Struct(
    "segment_index" / Int32ub,
    "keyframe_number" / Int16ub,
)
KfrmBody = Struct(
    "keyframe_number" / Int16ub,
    "codec" / Int16ub,
    "width" / Int16ub,
    "height" / Int16ub,
    "flags" / Int8ub,
    "refs" / PrefixedArray(Int8ub, KeyframeRef),
    "data" / GreedyBytes,
)
KFRM_FLAG_RANDOM_ACCESS = 0x01
KFRM_FLAGS_RESERVED = 0xFE  # must be zero

# --- 5.3 CAPT: caption -------------------------------------------------------
CaptBody = Struct(
    "kind" / Int8ub,
    "compression" / Int8ub,
    "dictionary_id" / Int32ub,
    "text_length" / Int32ub,
    "data" / GreedyBytes,
)

# --- 5.4 MOTN: motion parameters ---------------------------------------------
MotnBody = Struct(
    "model" / Int8ub,
    "coding" / Int8ub,
    "values_per_record" / Int8ub,
    "record_count" / Int32ub,
    "data" / GreedyBytes,
)
MotionValue = Int16sb

# --- 5.5 GENP: generation parameters -----------------------------------------
GenParam = Struct(
    "key" / PascalString(Int8ub, "utf8"),
    "value" / PascalString(Int16ub, "utf8"),
)
GenpBody = Struct(
    "generator_model" / Int8ub,
    "seed" / Int64ub,
    "steps" / Int16ub,
    "guidance_milli" / Int32ub,
    "scheduler" / PascalString(Int8ub, "utf8"),
    "params" / PrefixedArray(Int8ub, GenParam),
    Terminated,  # no trailing bytes
)

# --- 6.1 sidx: seek index ----------------------------------------------------
IndexEntry = Struct(
    "offset" / Int64ub,
    "first_frame" / Int32ub,
    "frame_count" / Int32ub,
    "rap_segment" / Int32ub,
)
INDEX_ENTRY_SIZE = 20
SidxBody = Struct(
    "entries" / PrefixedArray(Int32ub, IndexEntry),
)

# --- 6.2 CEND: end of stream -------------------------------------------------
CendBody = Struct(
    "index_offset" / Int64ub,
)
CEND_BODY_SIZE = 8
CEND_CHUNK_SIZE = CHUNK_OVERHEAD + CEND_BODY_SIZE  # 20: the fixed-size footer
