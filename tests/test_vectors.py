"""The conformance vectors of spec/vectors: each valid one parses to its JSON,
each invalid one fails with its error class at its offset, and the generator
reproduces the committed bytes exactly."""
import json
from pathlib import Path

import pytest

import cmvc_format
from cmvc_format import CMVCError, StreamReader, read_stream, stream_to_json
from cmvc_format.errors import ERROR_CLASSES
from tools import make_vectors

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"
VALID = sorted((VECTORS / "valid").glob("*.cmvc"))
INVALID = sorted((VECTORS / "invalid").glob("*.cmvc"))


def test_vector_set_is_complete():
    names = {p.stem for p in VALID}
    assert {"minimal", "multi_segment", "both_modes", "unknown_ancillary", "pipe_no_index",
            "caption_dictionary"} <= names
    bad = {p.stem for p in INVALID}
    assert {"bad_signature", "crc_mismatch", "truncated", "unknown_critical_chunk",
            "length_over_limit", "zstd_bomb", "index_outside_file"} <= bad


def test_generator_reproduces_committed_vectors():
    generated = make_vectors.generate()
    # lic/ holds the learned codec's payloads, made by tools/make_lic_vectors.py
    # (tests/lic/test_codec.py checks them); av1lr/ likewise (tools/make_av1lr_vectors.py,
    # tests/restoration/test_av1lr.py).
    on_disk = {str(p.relative_to(VECTORS)): p.read_bytes()
               for p in VECTORS.rglob("*") if p.is_file() and p.relative_to(VECTORS).parts[0] not in ("lic", "av1lr")}
    assert sorted(generated) == sorted(on_disk)
    for rel, data in generated.items():
        assert data == on_disk[rel], f"{rel} differs from the generator's output"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_vector_parses_to_expected_json(path):
    expected = json.loads(path.with_suffix(".json").read_text())
    assert stream_to_json(read_stream(path)) == expected


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_vector_parses_from_a_pipe(path):
    """Sequential reading needs no seeking (a reader on stdin)."""
    class Pipe:
        def __init__(self, data):
            self._data, self._pos = data, 0

        def read(self, n=-1):
            out = self._data[self._pos:self._pos + n if n >= 0 else None]
            self._pos += len(out)
            return out

        def seekable(self):
            return False

    expected = json.loads(path.with_suffix(".json").read_text())
    assert stream_to_json(read_stream(Pipe(path.read_bytes()))) == expected


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_vector_fails_with_expected_error(path):
    expected = json.loads(path.with_suffix(".json").read_text())
    cls = ERROR_CLASSES[expected["error"]]
    with pytest.raises(cls) as info:
        read_stream(path)
    assert type(info.value) is cls
    assert info.value.offset == expected["offset"]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_vector_tolerant_reading_never_escapes(path):
    """errors="report" either refuses the whole stream (header-level defects)
    or yields what it can, with the defect reported."""
    try:
        r = StreamReader(path, errors="report")
    except CMVCError:
        return
    with r:
        out = list(r.segments())
    damaged = [s for s in out if isinstance(s, cmvc_format.DamagedSegment)]
    assert damaged or r.warnings or r.end_offset is None


def test_damaged_segment_is_reported_and_the_rest_decodes():
    data = (VECTORS / "invalid" / "crc_mismatch.cmvc").read_bytes()
    with StreamReader(data, errors="report") as r:
        out = list(r.segments())
    assert isinstance(out[0], cmvc_format.DamagedSegment)
    assert isinstance(out[0].error, cmvc_format.ChecksumError)
    assert out[0].index == 0
    assert [s.index for s in out[1:]] == [1]


def test_trailing_data_is_ignored_with_a_warning():
    with StreamReader(VECTORS / "valid" / "trailing_data.cmvc") as r:
        list(r.segments())
        assert r.trailing_bytes == len(b"trailing garbage\n")
        assert r.warnings and "after CEND" in str(r.warnings[0])
        assert r.index() is None  # footer is not at the end: a scan is needed
