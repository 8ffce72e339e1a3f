"""Keyframe payload codecs by name (`--keyframe-codec`) and by registry id (decoding)."""
from __future__ import annotations

from dataclasses import dataclass

from cmvc_format import Codec, PayloadError

from ..colors import ColorSpec
from .base import TrackDecoder, TrackEncoder

ENCODER_NAMES = ("av1", "av1-auto", "av1-intra", "av1-lr", "av1-lr-intra", "lic", "lic-intra", "raw")
#: Encoders whose payloads depend on a decision that "search" effort skips
#: (make_encoder): the rate controller scores their candidates at "score".
DECIDING = ("av1-auto",)
#: cmvc-mux's keyframe codec. End to end (rate control at 75 % of SVT-AV1
#: crf 63's rate, 120 frames of each clip, RIFE; tools/results/av1lr-vs-av1/),
#: av1-lr beat av1 on LPIPS on 5 of 6 clips but lost on bottle-detection
#: (0.0430 vs 0.0298); av1-auto, which keeps the network only where it helps
#: the keyframes, matched or beat the better of the two on all six.
DEFAULT = "av1-auto"


@dataclass(frozen=True)
class QualityScale:
    """A codec's own quality numbers, as `--quality` takes them."""

    ladder: tuple[float, ...]  # the rate controller's choices, best quality first
    valid: tuple[float, float]  # accepted by --quality (inclusive)
    default: float
    meaning: str
    step: float = 1             # --quality must be a multiple of this
    #: How much coarser (in these units) the rate controller's crf rule
    #: (``--gap-rule crf``) lets keyframes get for twice as many of them;
    #: None: it never trades density back.
    density_cost: float | None = None

    def accepts(self, q: float) -> bool:
        return self.valid[0] <= q <= self.valid[1] and float(q / self.step).is_integer()


#: SVT-AV1 crf (4.x): 1 best .. 70 smallest, in quarter steps (its extended
#: range above 63 reaches about half the rate of 63 at the same picture
#: size).  Quarter steps let the rate search land within a few percent of a
#: target instead of ~10% (one whole crf step).  The search stays within
#: 20..63: with 63..70 on its ladder it kept dense keyframes at crf 68.75
#: on carphone at 3.1 kbps (LPIPS 0.361) where growing the keyframe gap at
#: crf 63 gave 0.221.
#:
#: density_cost, measured with RIFE at 75% of SVT-AV1's floor rate (issue 3,
#: fourth session; crf of the kept encodes, LPIPS-Alex): halving the keyframe
#: gap from 0.5 s to 0.25 s cost bikes 2 crf and won (0.208 vs 0.225), Big
#: Buck Bunny 3.5 and won (0.131 vs 0.138), carphone 9 and lost (0.128 vs
#: 0.122); from 1 s to 0.5 s cost one-by-one-person-detection 3.75 and won
#: (0.101 vs 0.104).  Going down to 0.125 s lost on bikes (crf 62.75, 0.215),
#: so the CLI starts from 0.25 s.
_AV1 = QualityScale(tuple(20 + i / 4 for i in range(173)), (1, 70), 50,
                    "crf, 1 (best) to 70 (smallest), in steps of 0.25", 0.25, density_cost=6)
_RAW = QualityScale((0,), (0, 0), 0, "none (raw is lossless)")


def quality_scale(name: str) -> QualityScale:
    if name in ("av1", "av1-auto", "av1-intra", "av1-lr", "av1-lr-intra"):
        return _AV1
    if name == "raw":
        return _RAW
    if name in ("lic", "lic-intra"):
        from .lic import lic_quality_scale
        return lic_quality_scale()
    raise ValueError(f"unknown keyframe codec {name!r}; choose from {', '.join(ENCODER_NAMES)}")


def make_encoder(name: str, width: int, height: int, colors: ColorSpec, quality: int, *,
                 effort: str = "final") -> TrackEncoder:
    """``effort``: "search" for the rate controller's trial encodes (fast),
    "score" for the trial encodes it scores (as fast, but with every choice
    that changes the pictures made: av1-auto's per-group decision), "final"
    for the payloads that are kept (slower, smaller)."""
    if effort not in ("search", "score", "final"):
        raise ValueError(f"effort must be search, score or final, not {effort!r}")
    if name in ("av1", "av1-intra"):
        from .av1 import FINAL_PRESET, SEARCH_PRESET, AV1TrackEncoder
        preset = FINAL_PRESET if effort == "final" else SEARCH_PRESET
        return AV1TrackEncoder(width, height, colors, quality, intra_only=name == "av1-intra",
                               preset=preset)
    if name == "av1-auto":
        from .av1 import FINAL_PRESET, SEARCH_PRESET
        from .av1auto import Av1AutoEncoder
        return Av1AutoEncoder(width, height, colors, quality, decide=effort != "search",
                              preset=FINAL_PRESET if effort == "final" else SEARCH_PRESET)
    if name in ("av1-lr", "av1-lr-intra"):
        from .av1 import FINAL_PRESET, SEARCH_PRESET
        from .av1lr import Av1LrEncoder
        preset = FINAL_PRESET if effort == "final" else SEARCH_PRESET
        return Av1LrEncoder(width, height, colors, quality, intra_only=name == "av1-lr-intra", preset=preset)
    if name == "raw":
        from .raw import RawEncoder
        return RawEncoder(width, height, colors, quality)
    if name in ("lic", "lic-intra"):
        from .lic import LicEncoder
        return LicEncoder(width, height, colors, quality, intra_only=name == "lic-intra")
    raise ValueError(f"unknown keyframe codec {name!r}; choose from {', '.join(ENCODER_NAMES)}")


def make_decoder(codec_id: int, colors: ColorSpec) -> TrackDecoder:
    if codec_id == Codec.AV1:
        from .av1 import AV1TrackDecoder
        return AV1TrackDecoder(colors)
    if codec_id == Codec.RAW:
        from .raw import RawDecoder
        return RawDecoder(colors)
    if codec_id == Codec.CMVC_LIC:
        from .lic import LicDecoder
        return LicDecoder(colors)
    if codec_id == Codec.AV1_LR:
        from .av1lr import Av1LrDecoder
        return Av1LrDecoder(colors)
    raise PayloadError(f"keyframe codec 0x{codec_id:04x} is not supported by this decoder")


__all__ = ["DECIDING", "DEFAULT", "ENCODER_NAMES", "QualityScale", "TrackDecoder", "TrackEncoder", "make_decoder",
           "make_encoder", "quality_scale"]
