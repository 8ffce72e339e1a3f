"""AV1 keyframe payloads (codec 0x0002) through PyAV: SVT-AV1 to encode, dav1d to decode.

``av1`` (under cmvc-mux's default, av1-auto) codes the keyframes of consecutive segments as one
AV1 sequence per random-access group (a key frame + sequence header, then
the keyframes up to the next random-access point, hierarchically predicted).
``av1-intra`` codes every keyframe on its own, in SVT-AV1's still-picture
mode.  Measured on a 768x432 surveillance clip (issue 3, intra keyframes
then without still-picture mode): the track needed 5.3 kbps where intra
keyframes needed 7.7 kbps, and still looked better (LPIPS 0.290 vs 0.355).
"""
from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

from cmvc_format import Codec, KeyframePayload, PayloadError

from ..colors import ColorSpec, from_rgb, to_rgb
from .base import TrackDecoder, TrackEncoder, check_decoded

# SVT-AV1 prints its configuration at info level on every session.
os.environ.setdefault("SVT_LOG", "1")

#: Coded sizes are padded (edge replication) to a multiple of this; the
#: payload's width/height say what to crop back to (spec 10.2).
PAD = 8
#: SVT-AV1 presets. Measured on 30 keyframes of bikes.mp4 (640x272): preset 4
#: codes them 9-11% smaller than preset 8 at the same crf (+0.3-0.5 dB) and
#: takes ~0.1 s per keyframe instead of ~0.015 s. Keyframes are few, so the
#: kept payloads use 4; the rate controller's many trial encodes use 8.
FINAL_PRESET = 4
SEARCH_PRESET = 8

#: SVT-AV1 sharpness (-7..7; higher keeps more detail, less deblocking).
#: Measured end to end (rate control at 75% of SVT-AV1 crf 63's rate, RIFE,
#: LPIPS-Alex; issue 3, fourth session), default 0 -> 4 -> 7 with tune=0:
#: carphone 0.122 -> 0.106 -> 0.095, bikes 0.208 -> 0.203 -> 0.200,
#: bottle-detection 0.036 -> 0.036 -> 0.035, Big Buck Bunny 0.131 -> 0.130
#: -> 0.131, one-by-one-person-detection 0.101 -> 0.101 -> 0.104.  4 is
#: the strongest setting that lost nowhere.
SHARPNESS = 4
#: SVT-AV1 parameters (besides crf) of keyframes coded alone (av1-intra,
#: av1-lr-intra): still-picture mode; measured in AV1TrackEncoder._open.
STILL_PARAMS = "avif=1:lp=1"


def _pad(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    ph, pw = (-h) % PAD, (-w) % PAD
    if ph or pw:
        rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="edge")
    return rgb


class AV1TrackEncoder(TrackEncoder):
    name = "av1"
    codec_id = Codec.AV1
    predictive = True

    def __init__(self, width, height, colors: ColorSpec, quality: float, *, intra_only=False,
                 preset: int = FINAL_PRESET):
        super().__init__(width, height, colors, quality)
        from . import quality_scale
        scale = quality_scale("av1")
        if not scale.accepts(quality):
            raise ValueError(f"AV1 quality must be a {scale.meaning}, not {quality}")
        self.intra_only = intra_only
        self.predictive = not intra_only
        if intra_only:
            self.name = "av1-intra"
        self.preset = preset

    def _open(self) -> av.CodecContext:
        ctx = av.CodecContext.create("libsvtav1", "w")
        ctx.width = self.width + (-self.width) % PAD
        ctx.height = self.height + (-self.height) % PAD
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        ctx.color_range = 2 if self.colors.full_range else 1
        ctx.colorspace = self.colors.matrix
        ctx.color_primaries = self.colors.primaries
        ctx.color_trc = self.colors.transfer
        # Random access (pred-struct=2): hierarchical prediction inside each
        # group of keyframes, frames coded out of order (hidden, shown later
        # by show_existing_frame), TPL on.  SVT-AV1 still emits one temporal
        # unit per input picture, in picture order, each ending in that
        # picture's shown frame, so payload k decodes to keyframe k.
        # Measured against low delay (pred-struct=1) on the keyframes of two
        # clips, every 0.5 s, random-access points every 10 s, preset 8:
        # one-by-one-person-detection 15.7 kB at LPIPS 0.129 where low delay
        # needed 14.8 kB for 0.153 and 24.5 kB for 0.109; bikes 14% fewer
        # bytes at crf 50 (28.1 vs 32.5 kB) with LPIPS 0.162 vs 0.164.
        # A GOP longer than any group: the only key frame is the group's first.
        # crf through svtav1-params: FFmpeg's own crf option takes integers to
        # 63 only, SVT-AV1 4.x quarter steps to 70.
        if self.intra_only:
            # Still-picture mode (avif=1, what AVIF files use), SVT-AV1's
            # default sharpness. The track's settings (no still-picture mode,
            # sharpness 4) stop at ~0.031 bpp on Kodak even at crf 70; these
            # reach 0.0067 (8 Kodak images). With the av1-lr network, LPIPS-Alex
            # BD-rate against AVIF at <= 0.05 bpp on those 8 images: -31.7 %
            # (PSNR gap -0.10 dB); still-picture mode with sharpness 4:
            # -27.1 %, floor 0.015 bpp. Without the network the pictures are
            # the benchmark's AVIF pictures
            # (the same coded picture, plus a temporal delimiter).
            ctx.options = {"preset": str(self.preset),
                           "svtav1-params": f"crf={float(self.quality):g}:{STILL_PARAMS}"}
        else:
            ctx.options = {"preset": str(self.preset), "g": "100000",
                           "svtav1-params": f"crf={float(self.quality):g}:pred-struct=2:lp=1:"
                                            f"sharpness={SHARPNESS}"}
        ctx.thread_count = 1
        ctx.open()
        return ctx

    def encode_group(self, pictures: list[np.ndarray]) -> list[bytes]:
        if self.intra_only:
            return [self._code([p])[0] for p in pictures]
        return self._code(pictures)

    def encode(self, rgb: np.ndarray, *, random_access: bool) -> bytes:
        if not (random_access or self.intra_only):
            raise ValueError("the av1 track codes predicted keyframes a group at a time "
                             "(encode_group)")
        return self._code([rgb])[0]

    def _code(self, pictures: list[np.ndarray]) -> list[bytes]:
        for rgb in pictures:
            if rgb.shape[:2] != (self.height, self.width):
                raise ValueError(f"keyframe of {rgb.shape[1]}x{rgb.shape[0]}, track is "
                                 f"{self.width}x{self.height}")
        ctx = self._open()
        packets = []
        for pts, rgb in enumerate(pictures):
            frame = from_rgb(_pad(rgb), self.colors, "yuv420p")
            frame.pts = pts
            packets += ctx.encode(frame)
        packets += ctx.encode(None)
        if [p.pts for p in packets] != list(range(len(pictures))):
            raise RuntimeError(f"SVT-AV1 returned packets for pictures {[p.pts for p in packets]} "
                               f"for {len(pictures)} pictures (one per picture, in order, expected)")
        return [bytes(p) for p in packets]


class AV1TrackDecoder(TrackDecoder):
    codec_id = Codec.AV1

    def __init__(self, colors: ColorSpec):
        super().__init__(colors)
        self._ctx = None

    def reset(self) -> None:
        self._ctx = None

    def decode(self, payload: KeyframePayload) -> np.ndarray:
        if payload.random_access or self._ctx is None:
            if not payload.random_access:
                raise PayloadError("predicted AV1 payload without its random-access point")
            ctx = av.CodecContext.create("libdav1d", "r")
            # Output each frame as soon as its temporal unit is in.
            ctx.options = {"max_frame_delay": "1", "framethreads": "1"}
            ctx.thread_count = 1
            self._ctx = ctx
        try:
            frames = self._ctx.decode(av.Packet(payload.data))
        except av.error.FFmpegError as exc:
            self._ctx = None
            raise PayloadError(f"AV1 payload does not decode: {exc}") from None
        if len(frames) != 1:
            self._ctx = None
            raise PayloadError(f"AV1 payload gave {len(frames)} pictures, not 1")
        return check_decoded(to_rgb(frames[0], self.colors), payload)
