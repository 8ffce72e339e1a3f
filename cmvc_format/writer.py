"""Streaming writer (spec 3-6): works on pipes, writes the seek index at close.

The writer counts the bytes it has written, so it never needs to seek: on a
pipe it still emits a valid seek index and CEND at close.  Every body it
encodes is decoded again with the reader's checks before it is written.
"""
from __future__ import annotations

import io
import os
from typing import BinaryIO

from . import bodies
from .chunks import Chunk, encode_chunk
from .errors import FieldError, StructureError
from .model import (
    AncillaryChunk, Dictionary, IndexEntry, Segment, StreamHeader, random_access_start,
)
from .registry import SIGNATURE, ChunkType, Mode, is_critical, is_valid_type


class StreamWriter:
    """Write a CMVC stream segment by segment.

    ``index``: write the seek index at close (False gives a valid stream
    without one, as a writer that cannot keep it would).
    ``caption_dictionary``: a ZDIC to embed and compress every caption with.
    """

    def __init__(self, fp: BinaryIO, header: StreamHeader, *, index: bool = True,
                 caption_dictionary: Dictionary | None = None,
                 compress_captions: bool = True, compress_motion: bool = True):
        self._fp = fp
        self._header = header
        self._write_index = index
        self._dictionary = caption_dictionary
        self._compress_captions = compress_captions
        self._compress_motion = compress_motion
        self._position = 0
        self._entries: list[IndexEntry] = []
        self._raps: list[int] = []  # random-access start of each segment written
        self._next_frame = 0
        self._closed = False
        self._put(SIGNATURE)
        head_body = bodies.encode_head(header)
        self._checked_header = bodies.decode_head(Chunk(self._position, ChunkType.HEAD.value, head_body))
        self._chunk(ChunkType.HEAD.value, head_body)
        self._dictionaries = {}
        if caption_dictionary is not None:
            body = bodies.encode_zdic(caption_dictionary)
            self._chunk(ChunkType.ZDIC.value, body, bodies.decode_zdic)
            self._dictionaries[caption_dictionary.dictionary_id] = caption_dictionary

    # -- low level -------------------------------------------------------------
    def _put(self, data: bytes) -> None:
        self._fp.write(data)
        self._position += len(data)

    def _chunk(self, chunk_type: bytes, body: bytes, check=None, *args) -> None:
        if check is not None:
            check(Chunk(self._position, chunk_type, body), *args)
        self._put(encode_chunk(chunk_type, body))

    @property
    def position(self) -> int:
        """Bytes written so far."""
        return self._position

    # -- segments ----------------------------------------------------------------
    def write_segment(self, seg: Segment) -> None:
        if self._closed:
            raise StructureError("write_segment after close")
        expected_index = len(self._entries)
        if seg.index != expected_index or seg.first_frame != self._next_frame:
            raise StructureError(f"segment {seg.index} starting at frame {seg.first_frame}: "
                                 f"expected segment {expected_index} at frame {self._next_frame}")
        total = self._header.frame_count
        if total is not None and seg.first_frame + seg.frame_count > total:
            raise StructureError(f"segment {seg.index} runs past the header's {total} frames")
        start = self._position
        segm_body = bodies.encode_segm(seg)
        checked = bodies.decode_segm(Chunk(start, ChunkType.SEGM.value, segm_body))
        self._chunk(ChunkType.SEGM.value, segm_body)

        seen = set()
        for p in seg.payloads:
            if p.keyframe_number in seen:
                raise StructureError(f"two payloads for keyframe {p.keyframe_number} "
                                     f"of segment {seg.index}")
            seen.add(p.keyframe_number)
            self._chunk(ChunkType.KFRM.value, bodies.encode_kfrm(p), bodies.decode_kfrm, checked)
        if seg.mode == Mode.IT2V and (not seg.keyframes or len(seen) != len(seg.keyframes)):
            raise StructureError(f"IT2V segment {seg.index} has {len(seg.keyframes)} keyframes "
                                 f"but {len(seen)} payloads")
        for cap in seg.captions:
            body = bodies.encode_capt(cap, self._dictionary, compress=self._compress_captions)
            self._chunk(ChunkType.CAPT.value, body, bodies.decode_capt, self._dictionaries)
        if seg.motion is not None:
            body = bodies.encode_motn(seg.motion, compress=self._compress_motion)
            self._chunk(ChunkType.MOTN.value, body, bodies.decode_motn, checked)
        if seg.generation is not None:
            self._chunk(ChunkType.GENP.value, bodies.encode_genp(seg.generation),
                        bodies.decode_genp, self._checked_header)
        for anc in seg.ancillary:
            self.write_ancillary(anc)

        rap = random_access_start(seg, self._raps)
        self._raps.append(rap)
        self._entries.append(IndexEntry(start, seg.first_frame, seg.frame_count, rap))
        self._next_frame = seg.first_frame + seg.frame_count

    def write_ancillary(self, chunk: AncillaryChunk) -> None:
        """An ancillary chunk of the caller's (types with a lower-case first letter)."""
        if not is_valid_type(chunk.type) or is_critical(chunk.type):
            raise FieldError(f"{chunk.type!r} is not an ancillary chunk type")
        if chunk.type in {t.value for t in ChunkType}:
            raise FieldError(f"{chunk.type!r} is a registered chunk type")
        self._chunk(chunk.type, chunk.body)

    # -- end -----------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        total = self._header.frame_count
        if total is not None and self._next_frame != total:
            raise StructureError(f"the header promises {total} frames; segments hold {self._next_frame}")
        index_offset = 0
        if self._write_index:
            index_offset = self._position
            self._chunk(ChunkType.SIDX.value, bodies.encode_sidx(self._entries))
        self._chunk(ChunkType.CEND.value, bodies.encode_cend(index_offset))
        self._closed = True
        self._fp.flush()

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def write_stream(header: StreamHeader, segments, **options) -> bytes:
    """The whole stream as bytes (convenience for tests and tools)."""
    buf = io.BytesIO()
    with StreamWriter(buf, header, **options) as w:
        for seg in segments:
            w.write_segment(seg)
    return buf.getvalue()


def write_file(path: str | os.PathLike, header: StreamHeader, segments, **options) -> None:
    """Write to a temporary file beside ``path`` and rename: no partial output."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as fp, StreamWriter(fp, header, **options) as w:
            for seg in segments:
                w.write_segment(seg)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
