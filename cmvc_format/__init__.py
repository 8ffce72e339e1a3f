"""CMVC bitstream format v1 (spec/CMVC.md): syntax, reader, writer, probe.

Importing this package imports neither torch nor av (payload codecs that
need them import them lazily).
"""
from .errors import (
    ChecksumError, CMVCError, DecompressionError, FieldError, LimitError, PayloadError,
    SeekIndexError, SignatureError, StructureError, TruncatedError, UnsupportedChunkError,
    VersionError,
)
from .model import (
    AncillaryChunk, Caption, DamagedSegment, Dictionary, GenerationParams, IndexEntry,
    KeyframePayload, KeyframeRefId, ModelRef, Motion, Segment, StreamHeader,
)
from .probe import probe, stream_to_json
from .reader import Stream, StreamReader, read_stream
from .registry import (
    READ_VERSION, SIGNATURE, WRITE_VERSION, CaptionKind, Codec, ColorRange, Limits, Mode,
    ModelRole, MotionModel, PixelFormat,
)
from .writer import StreamWriter, write_file, write_stream

__all__ = [
    "AncillaryChunk", "Caption", "CaptionKind", "ChecksumError", "CMVCError", "Codec",
    "ColorRange", "DamagedSegment", "DecompressionError", "Dictionary", "FieldError",
    "GenerationParams", "IndexEntry", "KeyframePayload", "KeyframeRefId", "LimitError",
    "Limits", "Mode", "ModelRef", "ModelRole", "Motion", "MotionModel", "PayloadError",
    "PixelFormat", "READ_VERSION", "SIGNATURE", "SeekIndexError", "Segment", "SignatureError",
    "Stream", "StreamHeader", "StreamReader", "StreamWriter", "StructureError",
    "TruncatedError", "UnsupportedChunkError", "VersionError", "WRITE_VERSION", "probe",
    "read_stream", "stream_to_json", "write_file", "write_stream",
]
