"""av1-lr keyframe payloads (codec 0x0004, spec 10.2.2): the av1 track with a
learned restoration network run on every decoded keyframe.

The AV1 side is the av1 codec's, unchanged (one predicted track per
random-access group, or each keyframe alone with av1-lr-intra); each payload
gains a 7-byte header naming the network by hash, and the stream's model
table lists its weights file. The network (cmvc_format/restoration, trained
by tools/train_restoration.py) restores the texture AV1's largest quantizers
smooth away: on the 5 held-out training photos at crf 63 (0.029 bpp) it took
LPIPS-Alex from 0.547 to 0.474 for 0.06 dB of PSNR (its training log).
"""
from __future__ import annotations

import numpy as np

from cmvc_format import Codec, KeyframePayload, ModelRef, ModelRole, PayloadError

from .av1 import FINAL_PRESET, AV1TrackDecoder, AV1TrackEncoder
from .base import TrackDecoder, TrackEncoder, check_decoded


def _restoration():
    from cmvc_format.restoration.model import load_restoration
    return load_restoration()


class Av1LrEncoder(TrackEncoder):
    codec_id = Codec.AV1_LR

    def __init__(self, width, height, colors, quality: float, *, intra_only=False,
                 preset: int = FINAL_PRESET):
        super().__init__(width, height, colors, quality)
        self.av1 = AV1TrackEncoder(width, height, colors, quality, intra_only=intra_only, preset=preset)
        self.name = "av1-lr-intra" if intra_only else "av1-lr"
        self.predictive = self.av1.predictive
        net = _restoration()
        self.model_id = net.model_id
        self.models = (ModelRef(ModelRole.KEYFRAME_CODEC, net.name, bytes.fromhex(net.sha256)),)

    def _wrap(self, data: bytes) -> bytes:
        from cmvc_format.restoration.payload import build_payload
        return build_payload(self.model_id, data)

    def encode_group(self, pictures: list[np.ndarray]) -> list[bytes]:
        return [self._wrap(d) for d in self.av1.encode_group(pictures)]

    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        return self._wrap(self.av1.encode(rgb, random_access=random_access))


class Av1LrDecoder(TrackDecoder):
    codec_id = Codec.AV1_LR

    def __init__(self, colors):
        super().__init__(colors)
        self.av1 = AV1TrackDecoder(colors)
        self.net = _restoration()

    def reset(self) -> None:
        self.av1.reset()

    def decode(self, payload: KeyframePayload) -> np.ndarray:
        from cmvc_format.restoration.payload import parse_payload

        try:
            head = parse_payload(payload.data)
        except PayloadError:
            self.av1.reset()  # the track cannot go on past a lost payload
            raise
        if head.model != self.net.model_id:
            self.av1.reset()
            raise PayloadError(f"av1-lr payload needs restoration model {head.model.hex()}..., "
                               f"this decoder has {self.net.model_id.hex()}...")
        inner = KeyframePayload(payload.keyframe_number, Codec.AV1, payload.width, payload.height,
                                bytes(head.data), payload.random_access, list(payload.refs))
        return check_decoded(self.net.restore(self.av1.decode(inner)), payload)
