import numpy as np
import pytest
import torch

from tests.bench.synth import pattern_rgb, with_noise
from tools.bench.y4m import Y4M
from tools.metrics.msssim import ms_ssim, ms_ssim_luma


def _luma(h=144, w=176):
    return pattern_rgb(h, w)[..., 0]


def test_identical_is_one(media):
    y = Y4M(media["src"]).frame(0)[0]
    assert ms_ssim_luma(y, y)[0] == pytest.approx(1.0, abs=1e-6)


def test_decreases_with_noise():
    y = _luma()
    values = [ms_ssim_luma(y, with_noise(y, a))[0] for a in (2, 8, 32, 96)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    assert values[0] > 0.99 and values[-1] < 0.85


def test_batched_reference_matches_pairwise():
    y = _luma()
    dist = np.stack([with_noise(y, a, seed=a) for a in (4, 16, 64)])
    batched = ms_ssim_luma(y, dist)
    single = [ms_ssim_luma(y, d)[0] for d in dist]
    np.testing.assert_allclose(batched, single, rtol=1e-6)


def test_float32_matches_float64_reference():
    # The metric runs in float32 for speed; a plain float64 evaluation of the same
    # formula (conv2d, no shortcuts) must agree to well below reporting precision.
    import torch.nn.functional as F
    from tools.metrics import msssim as M

    y = _luma(192, 224).astype(np.float64)
    d = with_noise(_luma(192, 224), 20).astype(np.float64)
    x, z = torch.from_numpy(y)[None, None], torch.from_numpy(d)[None, None]
    g = M._gauss(11, 1.5, "cpu").double()
    w2 = (g[:, None] * g[None, :])[None, None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for s in range(5):
        mx, mz = F.conv2d(x, w2), F.conv2d(z, w2)
        sxx, szz = F.conv2d(x * x, w2) - mx ** 2, F.conv2d(z * z, w2) - mz ** 2
        sxz = F.conv2d(x * z, w2) - mx * mz
        cs = ((2 * sxz + c2) / (sxx + szz + c2))
        lum = (2 * mx * mz + c1) / (mx ** 2 + mz ** 2 + c1)
        vals.append((lum * cs).mean() if s == 4 else cs.mean())
        x, z = F.avg_pool2d(x, 2), F.avg_pool2d(z, 2)
    want = float(np.prod([v.item() ** w for v, w in zip(vals, M.WEIGHTS)]))
    got = float(ms_ssim(torch.from_numpy(y)[None, None].float(), torch.from_numpy(d)[None, None].float())[0])
    assert got == pytest.approx(want, abs=1e-5)


def test_rejects_images_too_small_for_five_scales():
    with pytest.raises(ValueError):
        ms_ssim_luma(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))
