"""CMVC-LIC keyframe payloads (codec 0x0003, spec 10.2.1).

`lic` codes the first keyframe of each random-access group alone and the
others as predicted payloads (10.2.1.1: the same kind of symbols, range coded
given the previous keyframe's); `lic-intra` codes every keyframe alone.

The codec works in RGB; the decoded picture goes through the stream's colour
conversion like every other keyframe. Its weights ship inside cmvc_format,
and the stream's model table names both weight files with their SHA-256, so
a decoder refuses payloads made with other weights.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from cmvc_format import Codec, KeyframePayload, ModelRef, ModelRole, PayloadError

from .base import TrackDecoder, TrackEncoder, check_decoded


def _codec():
    from cmvc_format.lic.codec import load_codec
    return load_codec()


#: TAEF2 latents of recent keyframes: the rate controller codes the same
#: keyframes at many quality levels, and the latent (most of the encoding
#: time) does not depend on the level.
_LATENTS: OrderedDict = OrderedDict()
_LATENT_CACHE_SIZE = 256


def _latent(codec, rgb: np.ndarray):
    key = (rgb.shape, hashlib.blake2b(rgb.tobytes(), digest_size=16).digest())
    if key in _LATENTS:
        _LATENTS.move_to_end(key)
        return _LATENTS[key]
    latent = _LATENTS[key] = codec.latent(rgb)
    if len(_LATENTS) > _LATENT_CACHE_SIZE:
        _LATENTS.popitem(last=False)
    return latent


def lic_quality_scale():
    from . import QualityScale
    n = _codec().n_quality
    return QualityScale(tuple(range(n - 1, -1, -1)), (0, n - 1), n // 2,
                        f"level, 0 (smallest) to {n - 1} (best)")


class LicEncoder(TrackEncoder):
    name = "lic"
    codec_id = Codec.CMVC_LIC

    def __init__(self, width, height, colors, quality: int, *, intra_only: bool = False):
        super().__init__(width, height, colors, quality)
        self.codec = _codec()
        if not 0 <= quality < self.codec.n_quality:
            raise ValueError(f"lic quality must be 0..{self.codec.n_quality - 1}, not {quality}")
        self.predictive = not intra_only
        if self.predictive:
            self.codec.models(predicted=True)  # no conditional tables: fail now, not after coding
        self._prev = None
        self._any_predicted = False

    @property
    def models(self):
        # the conditional tables only where a payload needs them
        return tuple(ModelRef(ModelRole.KEYFRAME_CODEC, name, bytes.fromhex(digest))
                     for name, digest in self.codec.models(predicted=self._any_predicted))

    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        latent = _latent(self.codec, rgb)
        if random_access or not self.predictive:
            symbols = self.codec.symbols_of_latent(latent, self.quality)
            prev = None
        else:
            if self._prev is None:
                raise ValueError("a predicted lic payload needs a keyframe before it")
            prev = self._prev
            symbols = self.codec.predicted_symbols_of_latent(latent, self.quality, prev)
            self._any_predicted = True
        self._prev = symbols
        return self.codec.payload_of_symbols(symbols, self.quality, rgb.shape[1], rgb.shape[0], prev=prev)


class LicDecoder(TrackDecoder):
    codec_id = Codec.CMVC_LIC

    def __init__(self, colors):
        super().__init__(colors)
        self.codec = _codec()
        self.reset()

    def reset(self) -> None:
        self._prev = self._prev_quality = None

    def decode(self, payload: KeyframePayload) -> np.ndarray:
        try:
            head, symbols = self.codec.decode_symbols(payload.data, self._prev, self._prev_quality)
        except PayloadError:
            self.reset()
            raise
        if head.predicted == payload.random_access:
            self.reset()
            raise PayloadError("cmvc-lic payload version does not match the keyframe's random-access flag")
        self._prev, self._prev_quality = symbols, head.quality
        return check_decoded(self.codec.reconstruct(head, symbols), payload)
