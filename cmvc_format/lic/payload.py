"""Payload syntax of CMVC-LIC, keyframe codec 0x0003 (spec/CMVC.md 10.2.1).

A payload is a 12-byte header (17 for a predicted payload) followed by the
range-coded symbols:

    u(16) codec      0x0003, repeated so a payload stands on its own
    u(8)  version    1: random-access payload, 2: predicted (10.2.1.1);
                     a reader refuses others
    u(8)  quality    0..n_quality-1 of the model named below
    u(16) width      1..65535 pixels
    u(16) height     1..65535 pixels
    b(4)  model      first 4 bytes of the SHA-256 of the lic weights file
    b(4)  tables     version 2 only: first 4 bytes of the SHA-256 of the
                     conditional tables file
    u(8)  weight     version 2 only: 0..255, share of the conditional rows
    ...   data       u32 little-endian words of a constriction range coder

The version doubles as the payload's mode so that a version-1 reader, which
knows only random-access payloads, refuses a predicted one instead of
decoding it with the wrong tables.

Pure construct: importing it pulls neither torch nor numpy.
"""
from __future__ import annotations

from construct import Bytes, Const, GreedyBytes, If, Int8ub, Int16ub, Struct, this

from ..errors import PayloadError

CODEC_ID = 0x0003
VERSION = 1
PREDICTED_VERSION = 2
HEADER_SIZE = 12
PREDICTED_HEADER_SIZE = 17

LicPayload = Struct(
    "codec" / Const(CODEC_ID, Int16ub),
    "version" / Int8ub,
    "quality" / Int8ub,
    "width" / Int16ub,
    "height" / Int16ub,
    "model" / Bytes(4),
    "tables" / If(this.version == PREDICTED_VERSION, Bytes(4)),
    "weight" / If(this.version == PREDICTED_VERSION, Int8ub),
    "data" / GreedyBytes,
)


def parse_payload(payload: bytes):
    """The parsed container (`predicted` added); PayloadError on a payload
    this reader cannot use."""
    if len(payload) < HEADER_SIZE:
        raise PayloadError(f"cmvc-lic payload of {len(payload)} bytes is shorter than its {HEADER_SIZE}-byte header")
    if payload[:2] != CODEC_ID.to_bytes(2, "big"):
        raise PayloadError(f"cmvc-lic payload starts with codec id 0x{payload[:2].hex()}, not 0x0003")
    if payload[2] not in (VERSION, PREDICTED_VERSION):
        raise PayloadError(f"cmvc-lic payload version {payload[2]} is not supported "
                           f"(this reader: {VERSION} and {PREDICTED_VERSION})")
    if payload[2] == PREDICTED_VERSION and len(payload) < PREDICTED_HEADER_SIZE:
        raise PayloadError(f"predicted cmvc-lic payload of {len(payload)} bytes is shorter than its "
                           f"{PREDICTED_HEADER_SIZE}-byte header")
    parsed = LicPayload.parse(payload)
    parsed.predicted = parsed.version == PREDICTED_VERSION
    if parsed.width == 0 or parsed.height == 0:
        raise PayloadError("cmvc-lic payload declares a zero picture size")
    if len(parsed.data) % 4:
        raise PayloadError("cmvc-lic payload data is not a whole number of 32-bit words")
    return parsed


def build_payload(quality: int, width: int, height: int, model: bytes, data: bytes,
                  tables: bytes | None = None, weight: int | None = None) -> bytes:
    """A random-access payload, or a predicted one when `tables` (the
    conditional tables' id) and its weight are given."""
    version = VERSION if tables is None else PREDICTED_VERSION
    return LicPayload.build(dict(version=version, quality=quality, width=width, height=height,
                                 model=model[:4], tables=None if tables is None else tables[:4],
                                 weight=weight, data=data))
