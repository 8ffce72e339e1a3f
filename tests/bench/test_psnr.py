import math
import re

import numpy as np

from tests.bench.synth import ffmpeg
from tools.bench.y4m import Y4M
from tools.metrics.color import yuv420_to_rgb
from tools.metrics.psnr import PSNR, psnr_from_mse


def _ours(ref_path, dist_path):
    ref, dist = Y4M(ref_path), Y4M(dist_path)
    acc = PSNR()
    for r, d in zip(ref, dist):
        acc.add(r, d, yuv420_to_rgb(*r), yuv420_to_rgb(*d))
    return acc.result()


def test_matches_ffmpeg_psnr_filter(media):
    proc = ffmpeg("-i", str(media["x264_crf35"]), "-i", str(media["src"]), "-lavfi", "psnr",
                  "-f", "null", "-", "-loglevel", "info")
    m = re.search(r"PSNR y:([\d.]+) u:([\d.]+) v:([\d.]+) average:([\d.]+)", proc.stderr)
    assert m, proc.stderr
    want = dict(zip(("psnr_y", "psnr_u", "psnr_v", "psnr_yuv"), map(float, m.groups())))
    got = _ours(media["src"], media["x264_crf35"])
    assert 20 < want["psnr_y"] < 50  # a real, lossy pair
    for key, value in want.items():
        assert abs(got[key] - value) < 0.01, (key, got[key], value)


def test_identical_is_infinite_and_rgb_reported(media):
    got = _ours(media["src"], media["src"])
    assert all(math.isinf(v) for v in got.values())
    assert set(got) == {"psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "psnr_rgb"}


def test_known_mse():
    # A constant error of 5 code values: MSE 25 -> 10*log10(255^2/25) = 34.151 dB.
    a = np.full((8, 8), 100, np.uint8)
    acc = PSNR()
    acc.add((a, a[:4, :4], a[:4, :4]), (a + 5, a[:4, :4], a[:4, :4]))
    r = acc.result()
    assert abs(r["psnr_y"] - 10 * math.log10(255 ** 2 / 25)) < 1e-9
    assert abs(r["psnr_yuv"] - psnr_from_mse(25 * 64 / 96)) < 1e-9
