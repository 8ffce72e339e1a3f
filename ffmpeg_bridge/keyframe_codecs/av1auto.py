"""av1-auto: the av1 track, each random-access group sent as av1-lr payloads
(codec 0x0004) where the restoration network makes its keyframes look
better, else as av1 payloads (0x0002). The AV1 bytes are the same either way;
only the 7-byte av1-lr header and what the decoder runs differ.

Why: the network helps most clips and hurts some. End to end at the same
rate (tools/results/av1lr-vs-av1/) av1-lr lowered LPIPS on five of six
clips but raised it on bottle-detection (0.0298 -> 0.0430), and the
keyframes alone show it before any frame is generated: there the network
raised every keyframe's LPIPS, on bikes it lowered every one
(tools/restoration_keyframe_lpips.py). So the encoder, which has the source,
decodes each group, runs the network and keeps it only where the group's
mean keyframe LPIPS-Alex drops by more than MARGIN.

The decision picks the stream's bytes, so it is made the same way on every
machine: the network in float32 (not the decoder's bfloat16), torch on one
thread, scores rounded to DECIMALS before they are compared. A group is one
codec throughout: its predicted payloads continue the AV1 sequence of its
random-access payload (spec 5.2).
"""
from __future__ import annotations

import functools

import numpy as np

from cmvc_format import Codec, KeyframePayload, ModelRef, ModelRole

from .av1 import FINAL_PRESET, AV1TrackDecoder, AV1TrackEncoder
from .base import TrackEncoder

#: The network is kept for a group when it lowers the mean keyframe LPIPS by
#: more than this; a tie goes to plain av1 (no header, no network to run).
MARGIN = 0.0005
DECIMALS = 5


@functools.cache
def _lpips():
    """LPIPS-Alex, loaded once (WeightsUnavailable says how to fetch it)."""
    from ..perceptual.images import one_thread
    from ..perceptual.lpips import LPIPS
    with one_thread():
        return LPIPS("alex")


def load_decision_networks():
    """The restoration network (float32) and LPIPS-Alex the decision runs;
    ImportError without torch, WeightsUnavailable without LPIPS weights."""
    from cmvc_format.restoration.model import load_restoration
    return load_restoration(precision="fp32"), _lpips()


def keyframe_lpips(pictures, data: list[bytes], colors, net, lpips) -> tuple[list[float], list[float]]:
    """LPIPS of each keyframe of one av1 random-access group (payload data in
    order) against its source picture: without and with the network."""
    decoder = AV1TrackDecoder(colors)
    plain, restored = [], []
    for i, (d, source) in enumerate(zip(data, pictures)):
        h, w = source.shape[:2]
        av1 = decoder.decode(KeyframePayload(i, Codec.AV1, w, h, d, random_access=i == 0))
        a, b = lpips.compare(source, [av1, net.restore(av1)], batch=1)
        plain.append(a)
        restored.append(b)
    return plain, restored


class Av1AutoEncoder(TrackEncoder):
    name = "av1-auto"
    codec_id = Codec.AV1  # the codec of an undecided group
    predictive = True

    def __init__(self, width, height, colors, quality: float, *, preset: int = FINAL_PRESET,
                 decide: bool = True):
        """decide=False: every group is plain av1, for the rate controller's
        sizing encodes (deciding costs a network pass and LPIPS per
        keyframe). Sized so, a clip the network never helps gets exactly the
        av1 track's search; sized as av1-lr, the 7-byte headers pushed
        bottle-detection's quality searches up to half a crf coarser (56
        bytes of 4200 for 8 keyframes) and the spacing walk elsewhere. A
        group kept as av1-lr ends 7 bytes a keyframe over its sizing, which
        the final encode's fit absorbs."""
        super().__init__(width, height, colors, quality)
        from cmvc_format.restoration.model import load_restoration
        from cmvc_format.restoration.payload import build_payload

        self.av1 = AV1TrackEncoder(width, height, colors, quality, preset=preset)
        self.decide = decide
        self.net = load_restoration(precision="fp32")  # for its name, and the decision
        self._ref = ModelRef(ModelRole.KEYFRAME_CODEC, self.net.name, bytes.fromhex(self.net.sha256))
        self._wrap = functools.partial(build_payload, self.net.model_id)
        self.lpips = _lpips() if decide else None
        #: per coded group: keyframes, mean LPIPS without and with the network, kept
        self.groups: list[dict] = []

    @property
    def models(self) -> tuple[ModelRef, ...]:
        return (self._ref,) if any(g["restored"] for g in self.groups) else ()

    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        raise ValueError("av1-auto chooses a codec per group: use code_group")

    def code_group(self, pictures: list[np.ndarray]) -> list[tuple[int, bytes]]:
        data = self.av1.encode_group(pictures)
        if self.decide:
            without, with_net = self._scores(pictures, data)
            restored = with_net < without - MARGIN
        else:
            without = with_net = None
            restored = False
        self.groups.append({"keyframes": len(pictures), "lpips_av1": without,
                            "lpips_av1_lr": with_net, "restored": restored})
        if restored:
            return [(Codec.AV1_LR, self._wrap(d)) for d in data]
        return [(Codec.AV1, d) for d in data]

    def _scores(self, pictures, data) -> tuple[float, float]:
        """Mean keyframe LPIPS of the group against its source pictures,
        without and with the network, rounded."""
        import torch

        from ..perceptual.images import one_thread

        with one_thread(), torch.inference_mode():
            plain, restored = keyframe_lpips(pictures, data, self.colors, self.net, self.lpips)
        return (round(float(np.mean(plain)), DECIMALS), round(float(np.mean(restored)), DECIMALS))
