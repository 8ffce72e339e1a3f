"""CMVC-LIC payload header and range coding, without any network."""
import hashlib

import numpy as np
import pytest

from cmvc_format.errors import PayloadError
from cmvc_format.lic import entropy
from cmvc_format.lic.payload import HEADER_SIZE, PREDICTED_HEADER_SIZE, build_payload, parse_payload
from cmvc_format.lic.weights_file import QualityTable


def _table(channels=3, radius=4, seed=0):
    rng = np.random.default_rng(seed)
    freq = rng.integers(1, 1000, size=(channels, 2 * radius + 1)).astype(np.int64)
    freq[:, radius] += 20000  # peaked at zero like a trained prior
    freq[:, radius] += (1 << 16) - freq.sum(axis=1)
    return QualityTable(radius, freq.astype(np.int32))


def test_header_round_trip_and_size():
    payload = build_payload(5, 17, 9, bytes.fromhex("deadbeef99"), b"\x01\x02\x03\x04")
    assert len(payload) == HEADER_SIZE + 4
    assert payload[:2] == b"\x00\x03"
    head = parse_payload(payload)
    assert (head.quality, head.width, head.height, head.model, head.data) == (5, 17, 9, bytes.fromhex("deadbeef"), b"\x01\x02\x03\x04")


def test_predicted_header_round_trip():
    payload = build_payload(3, 17, 9, b"\xaa" * 4, b"\x01\x02\x03\x04", tables=bytes.fromhex("0badcafe77"), weight=208)
    assert len(payload) == PREDICTED_HEADER_SIZE + 4 and payload[2] == 2
    head = parse_payload(payload)
    assert head.predicted and (head.tables, head.weight, head.data) == (bytes.fromhex("0badcafe"), 208, b"\x01\x02\x03\x04")
    assert not parse_payload(build_payload(3, 17, 9, b"\xaa" * 4, b"")).predicted


@pytest.mark.parametrize("mutate, reason", [
    (lambda p: p[:11], "shorter than"),
    (lambda p: b"\x00\x02" + p[2:], "codec id"),
    (lambda p: p[:2] + b"\x03" + p[3:], "version 3"),
    (lambda p: p[:2] + b"\x02" + p[3:16], "shorter than its 17-byte"),
    (lambda p: p[:4] + b"\x00\x00" + p[6:], "zero picture size"),
    (lambda p: p + b"\x00", "32-bit words"),
])
def test_bad_headers_are_payload_errors(mutate, reason):
    good = build_payload(1, 64, 48, b"\x00" * 4, b"\x00" * 8)
    with pytest.raises(PayloadError, match=reason):
        parse_payload(mutate(good))


def test_range_coding_round_trip_clamps_and_is_deterministic():
    table = _table()
    rng = np.random.default_rng(1)
    symbols = entropy.clamp(rng.laplace(0, 1.5, size=(3, 5, 7)).round(), table)
    assert symbols.min() >= -4 and symbols.max() <= 4
    data = entropy.encode(symbols, table)
    assert entropy.encode(symbols, table) == data
    np.testing.assert_array_equal(entropy.decode(data, table, 5, 7), symbols)
    # Golden bytes: the coder is pure integer arithmetic on the tables, so the
    # digest must be the same on every machine and constriction build.
    assert hashlib.md5(data).hexdigest() == GOLDEN_RANGE_MD5


def test_garbage_data_gives_payload_error_or_symbols_never_a_crash():
    table = _table()
    for seed in range(20):
        garbage = np.random.default_rng(seed).integers(0, 256, size=4 * seed, dtype=np.uint8).tobytes()
        try:
            out = entropy.decode(garbage, table, 4, 4)
        except PayloadError:
            continue
        assert out.shape == (3, 4, 4) and np.abs(out).max() <= table.radius


GOLDEN_RANGE_MD5 = "180525b66de9d2e231dd1d007a542015"
