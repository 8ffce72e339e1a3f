"""Keyframe payload codecs by name (`--keyframe-codec`) and by registry id (decoding)."""
from __future__ import annotations

from cmvc_format import Codec, PayloadError

from ..colors import ColorSpec
from .base import TrackDecoder, TrackEncoder

ENCODER_NAMES = ("av1", "av1-intra", "raw")


def make_encoder(name: str, width: int, height: int, colors: ColorSpec, quality: int, *,
                 effort: str = "final") -> TrackEncoder:
    """``effort``: "search" for the rate controller's trial encodes (fast),
    "final" for the payloads that are kept (slower, smaller)."""
    if name in ("av1", "av1-intra"):
        from .av1 import FINAL_PRESET, SEARCH_PRESET, AV1TrackEncoder
        preset = SEARCH_PRESET if effort == "search" else FINAL_PRESET
        return AV1TrackEncoder(width, height, colors, quality, intra_only=name == "av1-intra",
                               preset=preset)
    if name == "raw":
        from .raw import RawEncoder
        return RawEncoder(width, height, colors, quality)
    raise ValueError(f"unknown keyframe codec {name!r}; choose from {', '.join(ENCODER_NAMES)}")


def make_decoder(codec_id: int, colors: ColorSpec) -> TrackDecoder:
    if codec_id == Codec.AV1:
        from .av1 import AV1TrackDecoder
        return AV1TrackDecoder(colors)
    if codec_id == Codec.RAW:
        from .raw import RawDecoder
        return RawDecoder(colors)
    raise PayloadError(f"keyframe codec 0x{codec_id:04x} is not supported by this decoder")


__all__ = ["ENCODER_NAMES", "TrackDecoder", "TrackEncoder", "make_decoder", "make_encoder"]
