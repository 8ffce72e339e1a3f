"""Lazy reader (spec 3-6): iterate segments, or jump to one through the seek index.

Only ``CMVCError`` subclasses leave this module, each with the byte offset of
the defect.  Two ways to meet damage:

* ``errors="raise"`` (default): the first defect raises.
* ``errors="report"``: a segment that cannot be read whole is yielded as a
  ``DamagedSegment`` and reading resumes at the next intact SEGM chunk, so the
  rest of the stream still decodes.  Defects outside segments are collected
  in ``reader.warnings``.
"""
from __future__ import annotations

import bisect
import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from . import bodies
from .chunks import Chunk, Source, read_chunk, read_signature
from .errors import (
    CMVCError, FieldError, SeekIndexError, StructureError, UnsupportedChunkError,
)
from .model import (
    AncillaryChunk, DamagedSegment, Dictionary, IndexEntry, Segment, StreamHeader,
    random_access_start,
)
from .registry import SIGNATURE, ChunkType, Mode, is_critical
from .syntax import CEND_CHUNK_SIZE, CHUNK_OVERHEAD

HEAD, ZDIC, SEGM, KFRM, CAPT, MOTN, GENP, SIDX, CEND = (t.value for t in ChunkType)
_PAYLOAD_TYPES = {KFRM, CAPT, MOTN, GENP}
_KNOWN_TYPES = {t.value for t in ChunkType}


@dataclass
class Stream:
    """A whole stream as read by ``read_stream``."""

    header: StreamHeader
    dictionaries: dict[int, Dictionary]
    segments: list[Segment]
    index: list[IndexEntry] | None
    ancillary: list[AncillaryChunk] = field(default_factory=list)
    size: int = 0             # bytes up to and including CEND
    trailing_bytes: int = 0   # bytes after CEND (ignored, spec 6.2)


class StreamReader:
    def __init__(self, source: str | os.PathLike | bytes | BinaryIO, *, errors: str = "raise"):
        if errors not in ("raise", "report"):
            raise ValueError("errors must be 'raise' or 'report'")
        self._tolerant = errors == "report"
        self._owned = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            fp: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            fp = self._owned = open(source, "rb")
        else:
            fp = source
        self._fp = fp
        self._src = Source(fp)
        self._peeked: Chunk | None = None
        self.warnings: list[CMVCError] = []
        self.chunk_bytes: dict[str, int] = {}  # bytes read per chunk type, framing included
        self.ancillary: list[AncillaryChunk] = []
        self.dictionaries: dict[int, Dictionary] = {}
        self._index: list[IndexEntry] | None | bool = False  # False: not looked up yet
        self.stored_index: list[IndexEntry] | None = None  # sidx met while iterating
        self.end_offset: int | None = None  # end of CEND, once iteration reached it
        self.trailing_bytes = 0
        try:
            read_signature(self._src)
            first = self._next_chunk()
            if first.type != HEAD:
                raise StructureError(f"first chunk is {first.name}, not HEAD", first.offset)
            self.header = bodies.decode_head(first)
            self._read_preamble()
        except BaseException:
            self.close()
            raise
        # _read_preamble stopped on a peeked chunk: the first segment (or sidx/CEND).
        self.first_segment_offset = self._peeked.offset

    # -- chunk level -------------------------------------------------------------
    def _next_chunk(self) -> Chunk:
        if self._peeked is not None:
            chunk, self._peeked = self._peeked, None
            return chunk
        chunk = read_chunk(self._src)
        name = chunk.name
        self.chunk_bytes[name] = self.chunk_bytes.get(name, 0) + chunk.size
        if chunk.type not in _KNOWN_TYPES and is_critical(chunk.type):
            raise UnsupportedChunkError(
                f"unknown critical chunk {chunk.name}: a newer CMVC decoder is needed", chunk.offset)
        return chunk

    def _peek_chunk(self) -> Chunk:
        if self._peeked is None:
            self._peeked = self._next_chunk()
        return self._peeked

    def _read_preamble(self) -> None:
        """ZDIC and ancillary chunks between HEAD and the first segment."""
        while True:
            chunk = self._peek_chunk()
            if chunk.type == ZDIC:
                self._peeked = None
                d = bodies.decode_zdic(chunk)
                if d.dictionary_id in self.dictionaries:
                    raise StructureError(f"dictionary {d.dictionary_id} defined twice", chunk.offset)
                self.dictionaries[d.dictionary_id] = d
            elif chunk.type not in _KNOWN_TYPES:
                self._peeked = None
                self.ancillary.append(AncillaryChunk(chunk.type, chunk.body))
            else:
                return

    # -- segments --------------------------------------------------------------------
    def _read_segment(self, segm: Chunk) -> Segment:
        """The segment whose SEGM chunk was just read, with its payload chunks."""
        seg = bodies.decode_segm(segm)
        while True:
            chunk = self._peek_chunk()
            t = chunk.type
            if t not in _PAYLOAD_TYPES and t in _KNOWN_TYPES:
                break
            self._peeked = None
            if t == KFRM:
                p = bodies.decode_kfrm(chunk, seg)
                if seg.payload_for(p.keyframe_number) is not None:
                    raise StructureError(f"second payload for keyframe {p.keyframe_number}",
                                         chunk.offset)
                seg.payloads.append(p)
            elif t == CAPT:
                seg.captions.append(bodies.decode_capt(chunk, self.dictionaries))
            elif t == MOTN:
                if seg.motion is not None:
                    raise StructureError("second MOTN chunk in a segment", chunk.offset)
                seg.motion = bodies.decode_motn(chunk, seg)
            elif t == GENP:
                if seg.generation is not None:
                    raise StructureError("second GENP chunk in a segment", chunk.offset)
                seg.generation = bodies.decode_genp(chunk, self.header)
            else:
                seg.ancillary.append(AncillaryChunk(t, chunk.body))
        if seg.mode == Mode.IT2V and not seg.keyframes:
            raise StructureError(f"IT2V segment {seg.index} has no keyframes", segm.offset)
        if seg.mode == Mode.IT2V and len(seg.payloads) != len(seg.keyframes):
            raise StructureError(f"IT2V segment {seg.index} codes {len(seg.payloads)} of its "
                                 f"{len(seg.keyframes)} keyframes", segm.offset)
        if seg.mode == Mode.TT2V and seg.content_caption is None:
            raise StructureError(f"TT2V segment {seg.index} has no content caption", segm.offset)
        return seg

    def segments(self) -> Iterator[Segment | DamagedSegment]:
        """Every segment in stream order, then the end checks (spec 6)."""
        self._rewind_to_segments()
        expected_index, expected_frame = 0, 0
        seen: list[IndexEntry] = []
        raps: dict[int, int] = {}
        index_chunk: Chunk | None = None
        index_entries: list[IndexEntry] | None = None
        damaged = False  # after damage, segment numbering may jump
        while True:
            try:
                chunk = self._next_chunk()
            except CMVCError as exc:
                if not self._tolerant:
                    raise
                yield DamagedSegment(None, exc.offset or 0, exc)
                damaged = True
                if not self._resync():
                    return
                continue
            if chunk.type == SEGM:
                try:
                    seg = self._read_segment(chunk)
                    in_order = (seg.index >= expected_index and seg.first_frame >= expected_frame
                                if damaged else
                                seg.index == expected_index and seg.first_frame == expected_frame)
                    if not in_order:
                        raise StructureError(
                            f"segment {seg.index} at frame {seg.first_frame}: expected segment "
                            f"{expected_index} at frame {expected_frame}", chunk.offset)
                    total = self.header.frame_count
                    if total is not None and seg.first_frame + seg.frame_count > total:
                        raise StructureError(f"segment {seg.index} runs past the header's "
                                             f"{total} frames", chunk.offset)
                    if index_chunk is not None:
                        raise StructureError("segment after the seek index", chunk.offset)
                except CMVCError as exc:
                    if not self._tolerant:
                        raise
                    yield DamagedSegment(_segment_index(chunk), chunk.offset, exc)
                    damaged = True
                    if not self._resync():
                        return
                    continue
                rap = random_access_start(seg, _Earlier(raps))
                raps[seg.index] = rap
                seen.append(IndexEntry(chunk.offset, seg.first_frame, seg.frame_count, rap))
                expected_index, expected_frame = seg.index + 1, seg.first_frame + seg.frame_count
                yield seg
            elif chunk.type == SIDX:
                try:
                    if index_chunk is not None:
                        raise StructureError("second seek index", chunk.offset)
                    index_chunk, index_entries = chunk, bodies.decode_sidx(chunk)
                except CMVCError as exc:
                    self._fail(exc)
            elif chunk.type == CEND:
                self._finish(chunk, seen, index_chunk, index_entries, expected_frame)
                return
            elif chunk.type in (HEAD, ZDIC):
                self._fail(StructureError(f"{chunk.name} chunk after the first segment", chunk.offset))
            elif chunk.type in _PAYLOAD_TYPES:
                self._fail(StructureError(f"{chunk.name} chunk outside a segment", chunk.offset))
            else:
                self.ancillary.append(AncillaryChunk(chunk.type, chunk.body))

    def _finish(self, cend: Chunk, seen, index_chunk, index_entries, frames) -> None:
        try:
            index_offset = bodies.decode_cend(cend)
            total = self.header.frame_count
            if total is not None and frames != total:
                raise StructureError(f"the header promises {total} frames; segments hold {frames}",
                                     cend.offset)
            if index_chunk is None and index_offset:
                raise SeekIndexError(f"CEND points at a seek index at offset {index_offset}, "
                                     f"but the stream has none", cend.offset)
            if index_chunk is not None:
                if index_offset != index_chunk.offset or index_chunk.end != cend.offset:
                    raise SeekIndexError(f"CEND points at offset {index_offset}; the seek index "
                                         f"is at {index_chunk.offset} and must end where CEND "
                                         f"starts", cend.offset)
                if index_entries != seen:
                    raise SeekIndexError("seek index does not match the segments",
                                         index_chunk.offset)
        except CMVCError as exc:
            self._fail(exc)
        self.stored_index = index_entries
        self.end_offset = cend.end
        trailing = self._src.read(1)
        if trailing:
            self.trailing_bytes = 1 + len(self._src.read(1 << 30))
            self.warnings.append(FieldError(
                f"{self.trailing_bytes} bytes after CEND (ignored)", cend.end))

    def _fail(self, exc: CMVCError) -> None:
        if not self._tolerant:
            raise exc
        self.warnings.append(exc)

    def _resync(self) -> bool:
        """Move to the next intact SEGM chunk; False at end of stream."""
        if self._peeked is not None:  # the failure happened after reading ahead
            return True
        while self._src.scan(SEGM):
            try:
                chunk = read_chunk(self._src)
            except CMVCError:
                continue
            self._peeked = chunk
            return True
        self.warnings.append(StructureError("no intact segment or CEND after damage",
                                            self._src.position))
        return False

    def _rewind_to_segments(self) -> None:
        if self._src.position != self.first_segment_offset or self._peeked is not None:
            if self._peeked is not None and self._peeked.offset == self.first_segment_offset:
                return
            self._seek(self.first_segment_offset)

    def _seek(self, position: int) -> None:
        if not self._fp.seekable():
            raise StructureError("random access needs a seekable input", position)
        self._peeked = None
        self._src.seek(position)

    def __iter__(self):
        return self.segments()

    # -- random access (spec 6) ------------------------------------------------------
    def index(self) -> list[IndexEntry] | None:
        """The seek index found through the CEND footer, or None (no index,
        unseekable input, or bytes after CEND)."""
        if self._index is not False:
            return self._index
        self._index = None
        if not self._fp.seekable():
            return None
        size = self._fp.seek(0, io.SEEK_END)
        footer = size - CEND_CHUNK_SIZE
        if footer < len(SIGNATURE):
            return None
        self._seek(footer)
        try:
            cend = read_chunk(self._src)
        except CMVCError:
            return None  # truncated or trailing data: only a scan can read it
        if cend.type != CEND:
            return None
        index_offset = bodies.decode_cend(cend)
        if index_offset == 0:
            return None
        if not len(SIGNATURE) <= index_offset <= footer - CHUNK_OVERHEAD:
            raise SeekIndexError(f"seek index offset {index_offset} is outside the stream "
                                 f"({size} bytes)", cend.offset)
        self._seek(index_offset)
        try:
            chunk = read_chunk(self._src)
        except CMVCError as exc:
            raise SeekIndexError(f"no intact seek index at offset {index_offset}: {exc.reason}",
                                 index_offset) from None
        if chunk.type != SIDX or chunk.end != footer:
            raise SeekIndexError(f"CEND points at offset {index_offset}, which holds no seek "
                                 f"index just before CEND", index_offset)
        entries = bodies.decode_sidx(chunk)
        for i, e in enumerate(entries):
            if e.offset < self.first_segment_offset:
                raise SeekIndexError(f"index entry {i} points into the stream header", chunk.offset)
        self._index = entries
        return entries

    def read_segment(self, i: int) -> Segment:
        """Segment ``i`` through the seek index, reading nothing else."""
        entries = self.index()
        if entries is None:
            raise SeekIndexError("the stream has no usable seek index", None)
        if not 0 <= i < len(entries):
            raise SeekIndexError(f"segment {i} is not in the {len(entries)}-entry index", None)
        e = entries[i]
        self._seek(e.offset)
        try:
            chunk = read_chunk(self._src)
        except CMVCError as exc:
            raise SeekIndexError(f"index entry {i} points at no intact chunk: {exc.reason}",
                                 e.offset) from None
        if chunk.type != SEGM:
            raise SeekIndexError(f"index entry {i} points at a {chunk.name} chunk", e.offset)
        seg = self._read_segment(chunk)
        if (seg.index, seg.first_frame, seg.frame_count) != (i, e.first_frame, e.frame_count):
            raise SeekIndexError(f"index entry {i} does not match the segment it points at", e.offset)
        return seg

    def segment_for_frame(self, frame: int) -> int:
        """Index of the segment holding ``frame`` (binary search in the index)."""
        entries = self.index()
        if entries is None:
            raise SeekIndexError("the stream has no usable seek index", None)
        i = bisect.bisect_right([e.first_frame for e in entries], frame) - 1
        if i < 0 or frame >= entries[i].first_frame + entries[i].frame_count:
            raise SeekIndexError(f"frame {frame} is not in the stream", None)
        return i

    # -- lifetime -------------------------------------------------------------------
    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Earlier:
    """random_access_start's view of earlier segments; a missing (damaged) one
    counts as its own start."""

    def __init__(self, raps: dict[int, int]):
        self._raps = raps

    def __getitem__(self, i: int) -> int:
        return self._raps.get(i, i)


def _segment_index(chunk: Chunk) -> int | None:
    return int.from_bytes(chunk.body[:4], "big") if len(chunk.body) >= 4 else None


def read_stream(source, *, errors: str = "raise") -> Stream:
    """Read a whole stream, checking everything (conformance, tests, probe)."""
    with StreamReader(source, errors=errors) as r:
        segments = list(r.segments())
        return Stream(header=r.header, dictionaries=r.dictionaries, segments=segments,
                      index=r.stored_index, ancillary=r.ancillary, size=r.end_offset or 0,
                      trailing_bytes=r.trailing_bytes)
