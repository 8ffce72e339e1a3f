"""RGB <-> YUV conversions (ffmpeg_bridge.colors) against H.273's formulas."""
import numpy as np
import pytest

from ffmpeg_bridge.colors import ColorSpec, from_rgb, to_rgb

# BT.709 (H.273 MatrixCoefficients 1): rows give Y', E'PB, E'PR from R'G'B'.
KR, KB = 0.2126, 0.0722
M709 = np.array([[KR, 1 - KR - KB, KB],
                 [-KR / (2 - 2 * KB), -(1 - KR - KB) / (2 - 2 * KB), 0.5],
                 [0.5, -(1 - KR - KB) / (2 - 2 * KR), -KB / (2 - 2 * KR)]])


def planes(frame) -> np.ndarray:
    """(3, H, W) uint8 planes of a yuv444p frame."""
    return np.stack([np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                     for p in frame.planes])


def h273(rgb: np.ndarray, full: bool) -> np.ndarray:
    """Unrounded 8-bit Y'CbCr of uint8 RGB, (3, H, W)."""
    e = np.einsum("ij,hwj->ihw", M709, rgb.astype(np.float64) / 255)
    if full:
        return np.stack([255 * e[0], 255 * e[1] + 128, 255 * e[2] + 128])
    return np.stack([219 * e[0] + 16, 224 * e[1] + 128, 224 * e[2] + 128])


@pytest.fixture
def noise() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize("full", [True, False], ids=["full", "limited"])
def test_rgb_to_yuv_is_rounded_h273(noise, full):
    # The bug this covers: swscale's 8-bit full-range output truncated Cb and
    # Cr (0.5 code values low on average), a colour cast on every full-range clip.
    got = planes(from_rgb(noise, ColorSpec(range=2 if full else 1), "yuv444p")).astype(np.float64)
    want = h273(noise, full)
    assert np.abs(got - want).max() <= 0.75
    assert np.abs((got - want).reshape(3, -1).mean(axis=1)).max() < 0.05


@pytest.mark.parametrize("full", [True, False], ids=["full", "limited"])
@pytest.mark.parametrize("size", [(48, 64), (9, 17)], ids=["64x48", "17x9"])
def test_round_trip_has_no_colour_cast(full, size):
    rng = np.random.default_rng(3)
    # smooth content: 4:2:0 then loses little, so a bias shows
    base = rng.integers(64, 192, (2, 2, 3)).astype(np.float64)
    ys, xs = np.linspace(0, 1, size[0])[:, None, None], np.linspace(0, 1, size[1])[None, :, None]
    rgb = ((1 - ys) * ((1 - xs) * base[0, 0] + xs * base[0, 1])
           + ys * ((1 - xs) * base[1, 0] + xs * base[1, 1])).round().astype(np.uint8)
    colors = ColorSpec(range=2 if full else 1)
    back = to_rgb(from_rgb(rgb, colors, "yuv420p"), colors)
    assert back.shape == rgb.shape
    diff = back.astype(np.float64) - rgb
    assert np.abs(diff.reshape(-1, 3).mean(axis=0)).max() < 0.25
    assert np.abs(diff).mean() < 1.0


def test_full_range_frame_is_tagged_full():
    f = from_rgb(np.zeros((8, 8, 3), np.uint8), ColorSpec(range=2), "yuv420p")
    assert f.format.name == "yuv420p" and f.color_range == 2
    assert planes(from_rgb(np.full((8, 8, 3), 255, np.uint8), ColorSpec(range=2), "yuv444p"))[0].min() == 255
