"""Every defect a CMVC reader can meet, as one exception hierarchy.

Each error carries the byte offset (from the first byte of the signature)
where the defect was found and a one-line reason, so command-line tools can
print ``file.cmvc: offset 1234: CRC mismatch in KFRM chunk`` and nothing else.
The reader lets no other exception type escape (spec section 9).
"""
from __future__ import annotations


class CMVCError(Exception):
    """Base class. ``offset`` is None only where no byte position applies
    (e.g. a writer refusing an invalid model before anything is written)."""

    def __init__(self, reason: str, offset: int | None = None):
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"offset {offset}: {reason}")


class SignatureError(CMVCError):
    """The 8-byte signature is missing or damaged (e.g. by a text-mode transfer)."""


class TruncatedError(CMVCError):
    """The stream ends inside a chunk, or before its CEND chunk."""


class ChecksumError(CMVCError):
    """A chunk's CRC-32 does not match its type and body."""


class UnsupportedChunkError(CMVCError):
    """An unknown critical chunk: a newer decoder is needed."""


class VersionError(CMVCError):
    """The stream's read_version is newer than this reader implements."""


class LimitError(CMVCError):
    """A length or count exceeds a limit of spec section 8."""


class FieldError(CMVCError):
    """A field holds a reserved or invalid value (or a reserved bit is set)."""


class StructureError(CMVCError):
    """Chunks are out of order, missing, duplicated or inconsistent."""


class DecompressionError(CMVCError):
    """A compressed payload is corrupt or does not decompress to its declared size."""


class SeekIndexError(CMVCError):
    """The seek index is malformed or points outside the stream / at the wrong chunk."""


class PayloadError(CMVCError):
    """A keyframe payload cannot be decoded by its codec (raised by payload codecs)."""


ERROR_CLASSES = {cls.__name__: cls for cls in (
    CMVCError, SignatureError, TruncatedError, ChecksumError, UnsupportedChunkError,
    VersionError, LimitError, FieldError, StructureError, DecompressionError,
    SeekIndexError, PayloadError,
)}
