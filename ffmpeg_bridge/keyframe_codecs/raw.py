"""RAW keyframe payloads (codec 0x0001): uncompressed yuv420p, for tests and references."""
from __future__ import annotations

import av
import numpy as np

from cmvc_format import Codec, KeyframePayload, PayloadError

from ..colors import from_rgb, to_rgb
from .base import TrackDecoder, TrackEncoder


def _planes(frame: av.VideoFrame) -> bytes:
    out = []
    for plane in frame.planes:
        a = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        out.append(np.ascontiguousarray(a[:, :plane.width]).tobytes())
    return b"".join(out)


class RawEncoder(TrackEncoder):
    name = "raw"
    codec_id = Codec.RAW

    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        return _planes(from_rgb(rgb, self.colors, "yuv420p"))


class RawDecoder(TrackDecoder):
    codec_id = Codec.RAW

    def decode(self, payload: KeyframePayload) -> np.ndarray:
        w, h = payload.width, payload.height
        cw, ch = (w + 1) // 2, (h + 1) // 2
        if len(payload.data) != w * h + 2 * cw * ch:
            raise PayloadError(f"RAW payload of {len(payload.data)} bytes for {w}x{h} yuv420p")
        frame = av.VideoFrame(w, h, "yuv420p")
        pos = 0
        for plane, (pw, ph) in zip(frame.planes, ((w, h), (cw, ch), (cw, ch))):
            a = np.frombuffer(payload.data, np.uint8, pw * ph, pos).reshape(ph, pw)
            buf = np.zeros((ph, plane.line_size), np.uint8)
            buf[:, :pw] = a
            plane.update(buf.tobytes())
            pos += pw * ph
        return to_rgb(frame, self.colors)
