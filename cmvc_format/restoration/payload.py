"""Payload syntax of keyframe codec 0x0004, `av1-lr` (spec/CMVC.md 10.2.2).

A payload is a 7-byte header followed by one AV1 temporal unit:

    u(16) codec      0x0004, repeated so a payload stands on its own
    u(8)  version    1; a reader refuses others
    b(4)  model      first 4 bytes of the SHA-256 of the restoration weights
    ...   data       the AV1 temporal unit, with the rules of codec 0x0002

Pure construct: importing it pulls neither torch nor numpy.
"""
from __future__ import annotations

from construct import Bytes, Const, GreedyBytes, Int8ub, Int16ub, Struct

from ..errors import PayloadError

CODEC_ID = 0x0004
VERSION = 1
HEADER_SIZE = 7

Av1LrPayload = Struct(
    "codec" / Const(CODEC_ID, Int16ub),
    "version" / Int8ub,
    "model" / Bytes(4),
    "data" / GreedyBytes,
)


def parse_payload(payload: bytes):
    """The parsed container; PayloadError on a payload this reader cannot use."""
    if len(payload) <= HEADER_SIZE:
        raise PayloadError(f"av1-lr payload of {len(payload)} bytes holds no more than its "
                           f"{HEADER_SIZE}-byte header")
    if payload[:2] != CODEC_ID.to_bytes(2, "big"):
        raise PayloadError(f"av1-lr payload starts with codec id 0x{payload[:2].hex()}, not 0x0004")
    parsed = Av1LrPayload.parse(payload)
    if parsed.version != VERSION:
        raise PayloadError(f"av1-lr payload version {parsed.version} is not supported (this reader: {VERSION})")
    return parsed


def build_payload(model: bytes, data: bytes) -> bytes:
    return Av1LrPayload.build(dict(version=VERSION, model=model[:4], data=data))
