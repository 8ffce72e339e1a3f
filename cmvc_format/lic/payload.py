"""Payload syntax of CMVC-LIC, keyframe codec 0x0003 (spec/CMVC.md 10.2.1).

A payload is a 12-byte header followed by the range-coded symbols:

    u(16) codec      0x0003, repeated so a payload stands on its own
    u(8)  version    1; a reader refuses others
    u(8)  quality    0..n_quality-1 of the model named below
    u(16) width      1..65535 pixels
    u(16) height     1..65535 pixels
    b(4)  model      first 4 bytes of the SHA-256 of the lic weights file
    ...   data       u32 little-endian words of a constriction range coder

Pure construct: importing it pulls neither torch nor numpy.
"""
from __future__ import annotations

from construct import Bytes, Const, GreedyBytes, Int8ub, Int16ub, Struct

from ..errors import PayloadError

CODEC_ID = 0x0003
VERSION = 1
HEADER_SIZE = 12

LicPayload = Struct(
    "codec" / Const(CODEC_ID, Int16ub),
    "version" / Int8ub,
    "quality" / Int8ub,
    "width" / Int16ub,
    "height" / Int16ub,
    "model" / Bytes(4),
    "data" / GreedyBytes,
)


def parse_payload(payload: bytes):
    """The parsed container; PayloadError on a payload this reader cannot use."""
    if len(payload) < HEADER_SIZE:
        raise PayloadError(f"cmvc-lic payload of {len(payload)} bytes is shorter than its {HEADER_SIZE}-byte header")
    if payload[:2] != CODEC_ID.to_bytes(2, "big"):
        raise PayloadError(f"cmvc-lic payload starts with codec id 0x{payload[:2].hex()}, not 0x0003")
    parsed = LicPayload.parse(payload)
    if parsed.version != VERSION:
        raise PayloadError(f"cmvc-lic payload version {parsed.version} is not supported (this reader: {VERSION})")
    if parsed.width == 0 or parsed.height == 0:
        raise PayloadError("cmvc-lic payload declares a zero picture size")
    if len(parsed.data) % 4:
        raise PayloadError("cmvc-lic payload data is not a whole number of 32-bit words")
    return parsed


def build_payload(quality: int, width: int, height: int, model: bytes, data: bytes) -> bytes:
    return LicPayload.build(dict(version=VERSION, quality=quality, width=width, height=height,
                                 model=model[:4], data=data))
