"""Chunk framing (spec 3): type, length, body, CRC-32 over type and body.

Reading works on any binary file object, seekable or not (a pipe): ``Source``
keeps its own position count and a push-back buffer, so a tolerant reader can
scan forward for the next segment after damage without seeking.
"""
from __future__ import annotations

import zlib
from typing import BinaryIO

from .errors import ChecksumError, CMVCError, FieldError, LimitError, SignatureError, TruncatedError
from .registry import SIGNATURE, Limits, is_valid_type
from .syntax import CHUNK_HEAD_SIZE, ChunkCrc, ChunkHead


def chunk_crc(chunk_type: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(chunk_type)) & 0xFFFFFFFF


def encode_chunk(chunk_type: bytes, body: bytes) -> bytes:
    if len(body) > Limits.CHUNK_BODY:
        raise LimitError(f"{chunk_type.decode('latin-1')} body of {len(body)} bytes "
                         f"exceeds the {Limits.CHUNK_BODY}-byte chunk limit")
    return (ChunkHead.build({"type": chunk_type, "length": len(body)}) + body
            + ChunkCrc.build(chunk_crc(chunk_type, body)))


class Chunk:
    """One framed chunk as read: where it starts, its type and its body."""

    __slots__ = ("offset", "type", "body")

    def __init__(self, offset: int, chunk_type: bytes, body: bytes):
        self.offset = offset
        self.type = chunk_type
        self.body = body

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")

    @property
    def size(self) -> int:
        return len(self.body) + 12

    @property
    def end(self) -> int:
        return self.offset + self.size


class Source:
    """A binary stream with a byte position and push-back (no seeking needed)."""

    BLOCK = 1 << 16

    def __init__(self, fp: BinaryIO, position: int = 0):
        self._fp = fp
        self._pending = b""
        self.position = position

    def read(self, n: int) -> bytes:
        """Up to n bytes (fewer only at end of stream)."""
        out = self._pending[:n]
        self._pending = self._pending[n:]
        while len(out) < n:
            more = self._fp.read(n - len(out))
            if not more:
                break
            out += more
        self.position += len(out)
        return out

    def unread(self, data: bytes) -> None:
        self._pending = data + self._pending
        self.position -= len(data)

    def at_eof(self) -> bool:
        probe = self.read(1)
        self.unread(probe)
        return not probe

    def seek(self, position: int) -> None:
        """Move to an absolute position (seekable sources only)."""
        self._fp.seek(position)
        self._pending = b""
        self.position = position

    def scan(self, pattern: bytes) -> bool:
        """Advance to the next occurrence of pattern (left unread); False at EOF."""
        window = b""
        while True:
            block = self.read(self.BLOCK)
            if not block:
                self.unread(window)
                return False
            data = window + block
            hit = data.find(pattern)
            if hit >= 0:
                self.unread(data[hit:])
                return True
            keep = len(pattern) - 1
            window = data[-keep:] if keep else b""


def read_signature(src: Source) -> None:
    sig = src.read(len(SIGNATURE))
    if sig != SIGNATURE:
        what = "stream too short for" if len(sig) < len(SIGNATURE) and SIGNATURE.startswith(sig) else "bad"
        raise SignatureError(f"{what} CMVC signature (got {sig[:8].hex(' ') or 'nothing'})", 0)


def read_chunk(src: Source, *, max_body: int = Limits.CHUNK_BODY) -> Chunk:
    """Read and check one chunk at the current position.

    On failure the source is left one byte past the chunk's start, so a
    tolerant reader can scan on for the next chunk from there.
    """
    offset = src.position
    consumed = []
    try:
        return _read_chunk(src, offset, max_body, consumed)
    except CMVCError:
        data = b"".join(consumed)
        src.unread(data[1:])
        raise


def _read_chunk(src: Source, offset: int, max_body: int, consumed: list) -> Chunk:
    head = src.read(CHUNK_HEAD_SIZE)
    consumed.append(head)
    if len(head) < CHUNK_HEAD_SIZE:
        raise TruncatedError("stream ends inside a chunk header (no CEND chunk)", offset)
    parsed = ChunkHead.parse(head)
    chunk_type, length = parsed.type, parsed.length
    if not is_valid_type(chunk_type):
        raise FieldError(f"invalid chunk type {chunk_type!r}: not four ASCII letters", offset)
    name = chunk_type.decode("latin-1")
    if length > max_body:
        raise LimitError(f"{name} chunk length {length} exceeds the limit of {max_body}", offset + 4)
    body = src.read(length)
    crc_bytes = src.read(4)
    consumed += (body, crc_bytes)
    if len(body) < length or len(crc_bytes) < 4:
        raise TruncatedError(f"stream ends inside the {name} chunk ({length}-byte body)", offset)
    stored = ChunkCrc.parse(crc_bytes)
    if stored != chunk_crc(chunk_type, body):
        raise ChecksumError(f"CRC mismatch in {name} chunk", offset)
    return Chunk(offset, chunk_type, body)
