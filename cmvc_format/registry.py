"""Registered values of the CMVC v1 bitstream (spec/CMVC.md, section 10).

Numbers here are the bitstream's, assigned once and never re-used: a value is
never an index into a Python collection, so reordering code cannot change
what a stream means.
"""
from __future__ import annotations

import enum

#: Spec sections 2 and 3: 0x8B (high bit set: detects 7-bit transfers), "CMV",
#: CR LF (detects CRLF -> LF), SUB (stops `type` on DOS), LF (detects LF -> CRLF).
SIGNATURE = b"\x8bCMV\r\n\x1a\n"

#: The highest read_version this implementation understands (spec 4.1).
READ_VERSION = 1
#: The write_version this implementation writes (spec 4.1).
WRITE_VERSION = 1


class ChunkType(bytes, enum.Enum):
    """Chunk types (spec 3.2). Bit 5 of the first byte clear (upper case) =
    critical; set (lower case) = ancillary."""

    HEAD = b"HEAD"  # stream header, first chunk
    ZDIC = b"ZDIC"  # zstd dictionary for captions
    SEGM = b"SEGM"  # segment header
    KFRM = b"KFRM"  # keyframe payload
    CAPT = b"CAPT"  # caption text
    MOTN = b"MOTN"  # motion parameters
    GENP = b"GENP"  # generation parameters
    SIDX = b"sidx"  # seek index (ancillary)
    CEND = b"CEND"  # end of stream, last chunk


def is_critical(chunk_type: bytes) -> bool:
    return not (chunk_type[0] & 0x20)


def is_valid_type(chunk_type: bytes) -> bool:
    return len(chunk_type) == 4 and all(
        0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A for b in chunk_type
    )


class Mode(enum.IntEnum):
    """Segment decoding mode (spec 5.1). 0 is invalid; 3..255 reserved."""

    TT2V = 1  # text (content caption) + text (motion caption) -> video
    IT2V = 2  # keyframe images + motion text -> video (frame interpolation)


class Codec(enum.IntEnum):
    """Keyframe payload codecs (spec 10.2)."""

    RAW = 0x0001       # uncompressed 8-bit planar samples in the stream's pixel format
    AV1 = 0x0002       # AV1 low-overhead OBU stream, one temporal unit per payload
    CMVC_LIC = 0x0003  # the CMVC learned image codec (own payload header)
    AV1_LR = 0x0004    # AV1 + learned restoration of the decoded picture (own payload header)


class ModelRole(enum.IntEnum):
    """Model table roles (spec 4.3). 0 invalid; unknown roles are ignored."""

    KEYFRAME_CODEC = 1
    INTERPOLATOR = 2
    TEXT_TO_VIDEO = 3
    CAPTIONER = 4
    KEYFRAME_SELECTOR = 5
    MOTION_ESTIMATOR = 6


class CaptionKind(enum.IntEnum):
    """Caption kinds (spec 5.3). Unknown kinds are kept and ignored."""

    CONTENT = 0
    MOTION = 1


class CaptionCompression(enum.IntEnum):
    NONE = 0
    ZSTD = 1
    ZSTD_DICT = 2


class MotionModel(enum.IntEnum):
    """Motion parameter models (spec 5.4). Unknown models are ignored."""

    GLOBAL_SIMILARITY = 1  # per frame: tx, ty (1/16 px), log2 zoom (1/4096), rotation (2^-13 rad)


class MotionCoding(enum.IntEnum):
    RAW = 0   # s16be values
    ZSTD = 1  # one zstd frame holding the s16be values


class PixelFormat(enum.IntEnum):
    """Decoded picture layout (spec 4.2); names as FFmpeg's."""

    YUV420P = 0
    YUV422P = 1
    YUV444P = 2
    GRAY = 3  # 8-bit
    RGB24 = 4


class ColorRange(enum.IntEnum):
    UNSPECIFIED = 0
    LIMITED = 1  # "tv"
    FULL = 2     # "pc"


#: Values per record of each known motion model.
MOTION_VALUES_PER_RECORD = {MotionModel.GLOBAL_SIMILARITY: 4}

#: Generator index meaning "not named in the model table" (spec 5.5).
NO_MODEL = 0xFF
#: frame_count value meaning "unknown when the header was written" (spec 4.2).
FRAME_COUNT_UNKNOWN = 0xFFFFFFFF


class Limits:
    """Spec section 8. Decoders enforce every one of these."""

    CHUNK_BODY = 1 << 26          # 64 MiB
    PIXELS = 1 << 26              # width * height
    SEGMENT_FRAMES = 1 << 20
    KEYFRAMES_PER_SEGMENT = 4096
    KEYFRAME_REFS = 8
    CAPTION_TEXT = 1 << 20        # decompressed bytes
    DICTIONARY = 1 << 20
    MOTION_VALUES_PER_RECORD = 16
    MOTION_DATA = 1 << 24         # decompressed bytes
    INDEX_ENTRIES = 1 << 24
    MODELS = 255
