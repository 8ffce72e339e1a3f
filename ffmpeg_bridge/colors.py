"""RGB <-> YUV with the stream's colour description, through swscale.

Frames inside the pipeline are uint8 RGB (what generators and captioners
want); conversions use the matrix and range the stream's HEAD records, with
swscale's bit-exact mode so that every machine produces the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import ColorRange as AvRange
from av.video.reformatter import Colorspace, Interpolation, VideoReformatter

# H.273 MatrixCoefficients -> swscale colorspace (others fall back to BT.709,
# which is what an unspecified HD stream means in practice).
_MATRIX = {1: Colorspace.ITU709, 4: Colorspace.FCC, 5: Colorspace.ITU601, 6: Colorspace.ITU601,
           7: Colorspace.SMPTE240M, 9: Colorspace.BT2020, 10: Colorspace.BT2020}
# Full-resolution chroma in and out: without these flags swscale point-samples
# chroma, which doubles the RGB -> 4:2:0 -> RGB round-trip error (measured 2.1 -> 0.93).
_EXACT = (Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.BITEXACT
          | Interpolation.FULL_CHR_H_INP | Interpolation.FULL_CHR_H_INT)


@dataclass(frozen=True)
class ColorSpec:
    """The colour fields of HEAD (spec 4.2), as H.273 code points."""

    matrix: int = 1
    primaries: int = 1
    transfer: int = 1
    range: int = 1  # 1 limited, 2 full, 0 unspecified (treated as limited)
    chroma_location: int = 1

    @property
    def full_range(self) -> bool:
        return self.range == 2

    def sws(self):
        return _MATRIX.get(self.matrix, Colorspace.ITU709), (AvRange.JPEG if self.full_range else AvRange.MPEG)


def spec_from_frame(frame: av.VideoFrame) -> ColorSpec:
    """The colour description a decoded source frame carries (unspecified -> BT.709 limited)."""
    def val(x, default):
        v = int(x) if x is not None else 0
        return v if v not in (0, 2) else default  # 2 = unspecified in H.273
    rng = int(frame.color_range or 0)
    if frame.format.name.startswith("yuvj"):
        rng = 2
    return ColorSpec(matrix=val(frame.colorspace, 1), primaries=val(frame.color_primaries, 1),
                     transfer=val(frame.color_trc, 1), range=2 if rng == 2 else 1,
                     chroma_location=1)


def to_rgb(frame: av.VideoFrame, colors: ColorSpec | None = None) -> np.ndarray:
    """A decoded frame as uint8 RGB (H, W, 3)."""
    if frame.format.name == "rgb24":
        return frame.to_ndarray()
    cs, rng = (colors or spec_from_frame(frame)).sws()
    rgb = VideoReformatter().reformat(frame, format="rgb24", src_colorspace=cs,
                                      dst_colorspace=Colorspace.ITU709, src_color_range=rng,
                                      dst_color_range=AvRange.JPEG, interpolation=_EXACT, threads=1)
    return rgb.to_ndarray()


def from_rgb(rgb: np.ndarray, colors: ColorSpec, pix_fmt: str = "yuv420p") -> av.VideoFrame:
    """uint8 RGB (H, W, 3) -> a YUV frame in the stream's matrix and range."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    cs, rng = colors.sws()
    wide = _WIDE.get(pix_fmt) if colors.full_range else None
    out = VideoReformatter().reformat(frame, format=wide or pix_fmt, src_colorspace=Colorspace.ITU709,
                                      dst_colorspace=cs, src_color_range=AvRange.JPEG,
                                      dst_color_range=rng, interpolation=_EXACT, threads=1)
    return _narrow(out, pix_fmt) if wide else out


# swscale's 8-bit full-range output truncates chroma: Cb and Cr come out 0.5
# code values low on average (measured against H.273's
# round(255 * E'PB + 128) on random RGB; limited range and luma are unbiased).
# On hungry (a full-range ASL clip) an RGB -> YUV -> RGB round trip cost
# 0.0035 LPIPS-Alex through 4:2:0 (0.0053 through 4:4:4), 0.0007 without the
# bias.  So full range goes through 16 bits, where
# swscale gives 65535 * E' (+ 32768 for chroma), and is rounded here.
_WIDE = {"yuv420p": "yuv420p16le", "yuv444p": "yuv444p16le"}


def _narrow(wide: av.VideoFrame, pix_fmt: str) -> av.VideoFrame:
    """A full-range 16-bit frame rounded to 8 bits as H.273 defines them."""
    out = av.VideoFrame(wide.width, wide.height, pix_fmt)
    for i, (src, dst) in enumerate(zip(wide.planes, out.planes)):
        v = np.frombuffer(src, np.uint16).reshape(src.height, src.line_size // 2)[:, :src.width]
        v = v.astype(np.int64)
        if i:  # chroma: round((v - 32768) / 257) + 128, halves up
            v = (2 * (v - 32768) + 257) // 514 + 128
        else:  # luma: round(v / 257)
            v = (2 * v + 257) // 514
        buf = np.zeros((dst.height, dst.line_size), np.uint8)
        buf[:, :dst.width] = np.clip(v, 0, 255)
        dst.update(buf.tobytes())
    out.color_range = 2
    out.colorspace = wide.colorspace
    return out
