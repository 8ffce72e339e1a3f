"""Seek index (spec 6): random access without scanning, and its failure modes."""
import io
import struct
from fractions import Fraction

import pytest

from cmvc_format import (
    Caption, CaptionKind, Mode, SeekIndexError, Segment, StreamHeader, StreamReader,
    write_stream,
)


def _stream(n=50, index=True):
    h = StreamHeader(width=16, height=16, frame_rate=Fraction(30), time_base=Fraction(1, 30),
                     frame_count=3 * n)
    segs = [Segment(index=i, first_frame=3 * i, frame_count=3, mode=Mode.TT2V,
                    captions=[Caption(CaptionKind.CONTENT, f"segment {i}")]) for i in range(n)]
    return write_stream(h, segs, index=index), segs


class CountingIO(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n=-1):
        out = super().read(n)
        self.bytes_read += len(out)
        return out


def test_read_segment_through_index_reads_little():
    data, segs = _stream(200)
    fp = CountingIO(data)
    with StreamReader(fp) as r:
        start = fp.bytes_read
        assert r.read_segment(137) == segs[137]
        assert r.segment_for_frame(3 * 99 + 2) == 99
        # footer + index + one segment: far less than the whole stream
        assert fp.bytes_read - start < 200 * 20 + 200
        assert fp.bytes_read < len(data) / 2


def test_no_index_means_no_random_access_but_full_read():
    data, segs = _stream(5, index=False)
    with StreamReader(data) as r:
        assert r.index() is None
        with pytest.raises(SeekIndexError):
            r.read_segment(0)
        assert list(r.segments()) == segs


def test_iterate_after_random_access_starts_from_the_first_segment():
    data, segs = _stream(5)
    with StreamReader(data) as r:
        r.read_segment(3)
        assert list(r.segments()) == segs


def _patch_index_entry(data, entry, new_offset):
    with StreamReader(data) as r:
        r.index()
        cend_off = len(data) - 20
        index_offset = struct.unpack(">Q", data[cend_off + 8:cend_off + 16])[0]
    import zlib
    body_start = index_offset + 8
    n = struct.unpack(">I", data[body_start:body_start + 4])[0]
    body = bytearray(data[body_start:body_start + 4 + 20 * n])
    struct.pack_into(">Q", body, 4 + 20 * entry, new_offset)
    crc = struct.pack(">I", zlib.crc32(b"sidx" + bytes(body)))
    return data[:body_start] + bytes(body) + crc + data[body_start + len(body) + 4:]


def test_index_entry_pointing_at_the_wrong_chunk_is_a_seek_index_error():
    data, _ = _stream(5)
    bad = _patch_index_entry(data, 2, 8)  # points at HEAD
    with StreamReader(bad) as r:
        with pytest.raises(SeekIndexError):
            r.index()


def test_index_entry_pointing_mid_chunk_is_a_seek_index_error():
    data, _ = _stream(5)
    with StreamReader(data) as r:
        good = r.index()[2].offset
    bad = _patch_index_entry(data, 2, good + 3)
    with StreamReader(bad) as r:
        with pytest.raises(SeekIndexError):
            r.read_segment(2)


def test_write_file_leaves_nothing_behind_on_failure(tmp_path):
    from cmvc_format import StructureError, read_stream, write_file
    data, segs = _stream(3)
    h = read_stream(data).header
    good = tmp_path / "good.cmvc"
    write_file(good, h, segs)
    assert good.read_bytes() == data
    bad = tmp_path / "bad.cmvc"
    with pytest.raises(StructureError):
        write_file(bad, h, segs[:1] + segs[2:])  # a gap in the segments
    assert list(tmp_path.iterdir()) == [good]
