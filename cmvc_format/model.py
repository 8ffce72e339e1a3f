"""The semantic model of a CMVC stream: what a writer is given and a reader returns.

These are plain dataclasses; ``syntax.py`` says how they are laid out in bytes.
Enumerated fields hold ints (not enum members) so that a reader can return a
reserved value it was told to keep, and so equality is simple; ``registry.py``
names the values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .registry import (
    CaptionKind,
    ColorRange,
    Mode,
    ModelRole,
    MotionModel,
    PixelFormat,
)


@dataclass(frozen=True)
class ModelRef:
    """A model the decode depends on (spec 4.3)."""

    role: int
    model_id: str
    sha256: bytes  # 32 bytes: SHA-256 of the weights file(s) as published

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()


@dataclass
class StreamHeader:
    """HEAD (spec 4.2)."""

    width: int
    height: int
    frame_rate: Fraction
    time_base: Fraction
    frame_count: int | None = None  # None: unknown when the header was written
    pixel_format: int = PixelFormat.YUV420P
    chroma_location: int = 1  # H.273 / AVChromaLocation: 1 = left (MPEG-2)
    color_primaries: int = 1  # H.273: 1 = BT.709
    transfer_characteristics: int = 1
    matrix_coefficients: int = 1
    color_range: int = ColorRange.LIMITED
    encoder_name: str = "cmvc"
    encoder_version: str = ""
    models: list[ModelRef] = field(default_factory=list)
    write_version: int = 1
    read_version: int = 1

    def model(self, role: int) -> ModelRef | None:
        """The first model of a role, or None."""
        return next((m for m in self.models if m.role == role), None)


@dataclass(frozen=True)
class KeyframeRefId:
    """A reference from one keyframe payload to an earlier one (spec 5.2)."""

    segment_index: int
    keyframe_number: int


@dataclass
class KeyframePayload:
    """KFRM (spec 5.2)."""

    keyframe_number: int
    codec: int
    width: int
    height: int
    data: bytes
    random_access: bool = True
    refs: list[KeyframeRefId] = field(default_factory=list)


@dataclass
class Caption:
    """CAPT (spec 5.3), decompressed."""

    kind: int
    text: str


@dataclass
class Motion:
    """MOTN (spec 5.4): one record of ``values_per_record`` ints per frame."""

    model: int
    records: list[tuple[int, ...]]
    values_per_record: int = 4


@dataclass
class GenerationParams:
    """GENP (spec 5.5): what a generative decode needs to be reproducible."""

    generator_model: int | None = None  # index into the model table
    seed: int = 0
    steps: int = 0
    guidance_milli: int = 0  # guidance scale x 1000
    scheduler: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class AncillaryChunk:
    """An ancillary chunk this reader does not interpret, kept as bytes."""

    type: bytes
    body: bytes


@dataclass
class Segment:
    """SEGM plus the payload chunks that follow it (spec 5)."""

    index: int
    first_frame: int
    frame_count: int
    mode: int = Mode.IT2V
    keyframes: list[int] = field(default_factory=list)  # offsets from first_frame
    scene_cut: bool = False
    payloads: list[KeyframePayload] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    motion: Motion | None = None
    generation: GenerationParams | None = None
    ancillary: list[AncillaryChunk] = field(default_factory=list)

    def caption(self, kind: int) -> str | None:
        return next((c.text for c in self.captions if c.kind == kind), None)

    @property
    def content_caption(self) -> str | None:
        return self.caption(CaptionKind.CONTENT)

    @property
    def motion_caption(self) -> str | None:
        return self.caption(CaptionKind.MOTION)

    def payload_for(self, keyframe_number: int) -> KeyframePayload | None:
        return next((p for p in self.payloads if p.keyframe_number == keyframe_number), None)


@dataclass
class DamagedSegment:
    """What a tolerant reader yields for a segment it could not read whole."""

    index: int | None
    offset: int
    error: Exception


@dataclass(frozen=True)
class IndexEntry:
    """One sidx entry (spec 6.1)."""

    offset: int
    first_frame: int
    frame_count: int
    rap_segment: int


@dataclass
class Dictionary:
    """ZDIC (spec 4.4): a zstd dictionary for captions."""

    dictionary_id: int
    data: bytes


def random_access_start(seg: Segment, earlier: list[int]) -> int:
    """The segment a decoder must start at to rebuild ``seg``'s keyframes (spec 6.1).

    ``earlier[j]`` is that value for segment j < seg.index.  A segment whose
    payloads reference nothing before it is its own start; otherwise it
    inherits the earliest start among the segments it references.
    """
    return min([seg.index] + [earlier[r.segment_index] for p in seg.payloads for r in p.refs
                              if r.segment_index < seg.index])


__all__ = ["random_access_start", 
    "AncillaryChunk", "Caption", "CaptionKind", "DamagedSegment", "Dictionary",
    "GenerationParams", "IndexEntry", "KeyframePayload", "KeyframeRefId", "Mode",
    "ModelRef", "ModelRole", "Motion", "MotionModel", "Segment", "StreamHeader",
]
