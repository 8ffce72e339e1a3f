"""The keyframe payload interface (spec 5.2, codec registry 10.2).

A *track encoder* turns the keyframes of a stream, in order, into payloads;
a payload is either random-access (decodable alone) or predicted from the
previous keyframe of the track.  Keyframes reach the encoder a random-access
group at a time (one random-access keyframe and the predicted ones up to the
next), so a codec may code them out of order inside the group, as AV1's
hierarchical prediction does, as long as payload k still yields keyframe k.
A *track decoder* reverses it, restarting
at every random-access payload.  Intra-only codecs simply make every payload
random-access.  The learned codec plugs in through the same two classes.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from cmvc_format import KeyframePayload, ModelRef, PayloadError

from ..colors import ColorSpec


class TrackEncoder(ABC):
    name: str
    codec_id: int
    #: the model table entries the stream needs for this codec (learned
    #: codecs); read after the last group is coded
    models: tuple[ModelRef, ...] = ()
    #: True when payloads can be predicted from the previous keyframe
    predictive: bool = False

    def __init__(self, width: int, height: int, colors: ColorSpec, quality: int):
        self.width, self.height, self.colors, self.quality = width, height, colors, quality

    @abstractmethod
    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        """The payload data of the next keyframe of the track."""

    def encode_group(self, pictures: list[np.ndarray]) -> list[bytes]:
        """The payloads of one random-access group, in order: the first is
        random-access, the others are predicted (random-access too when the
        codec is not predictive)."""
        return [self.encode(p, random_access=i == 0 or not self.predictive)
                for i, p in enumerate(pictures)]

    def code_group(self, pictures: list[np.ndarray]) -> list[tuple[int, bytes]]:
        """(codec id, payload data) of each keyframe of one random-access
        group: one codec for the whole group (a predicted payload continues
        its references' sequence), which an encoder may choose group by
        group (av1-auto)."""
        return [(self.codec_id, d) for d in self.encode_group(pictures)]

    def close(self) -> None:
        """Release encoder resources."""


class TrackDecoder(ABC):
    codec_id: int

    def __init__(self, colors: ColorSpec):
        self.colors = colors

    @abstractmethod
    def decode(self, payload: KeyframePayload) -> np.ndarray:
        """uint8 RGB (payload.height, payload.width, 3). Raises PayloadError."""

    def reset(self) -> None:
        """Forget the track state (before a random-access payload, or after damage)."""


def check_decoded(rgb: np.ndarray, payload: KeyframePayload) -> np.ndarray:
    if rgb.shape[0] < payload.height or rgb.shape[1] < payload.width:
        raise PayloadError(f"decoded picture {rgb.shape[1]}x{rgb.shape[0]} is smaller than the "
                           f"payload's {payload.width}x{payload.height}")
    return np.ascontiguousarray(rgb[:payload.height, :payload.width])
