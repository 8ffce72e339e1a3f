"""hold and blend: exact, and the shared input checks of the Generator interface."""
import numpy as np
import pytest

from ffmpeg_bridge.generators import NAMES, get_generator


def test_registry_names():
    assert set(NAMES) == {"rife", "blend", "hold"}
    with pytest.raises(KeyError, match="unknown generator 'dain'"):
        get_generator("dain")


def test_hold_repeats_frame_a(textured):
    a, b = textured(9, 17, seed=1), textured(9, 17, seed=2)
    out = get_generator("hold").interpolate(a, b, 4)
    assert len(out) == 4
    for f in out:
        assert f.dtype == np.uint8 and np.array_equal(f, a)
    out[0][0, 0, 0] ^= 0xFF  # copies, not views of the keyframe
    assert not np.array_equal(out[0], a) and np.array_equal(out[1], a)


def test_blend_known_values():
    a = np.full((2, 3, 3), 10, np.uint8)
    b = np.full((2, 3, 3), 20, np.uint8)
    # t = 1/4, 2/4, 3/4 -> 12.5, 15, 17.5, rounded half up
    assert [int(f[0, 0, 0]) for f in get_generator("blend").interpolate(a, b, 3)] == [13, 15, 18]
    a[:] = 255
    b[:] = 0
    assert [int(f[1, 2, 1]) for f in get_generator("blend").interpolate(a, b, 2)] == [170, 85]


def test_blend_matches_rounded_formula(textured):
    a, b = textured(97, 175, seed=3), textured(97, 175, seed=4)
    n = 6
    out = get_generator("blend").interpolate(a, b, n)
    for i, f in enumerate(out, start=1):
        t = i / (n + 1)
        expected = np.floor((1 - t) * a.astype(float) + t * b.astype(float) + 0.5)
        # Float evaluation of the same formula can differ only at exact halves.
        assert np.abs(f.astype(float) - expected).max() <= 1
        assert np.mean(f.astype(float) != expected) < 1e-3
    assert all(np.array_equal(x, y) for x, y in zip(out, get_generator("blend").interpolate(a, b, n)))


def test_blend_of_equal_frames_is_identity(textured):
    a = textured(5, 7, seed=5)
    assert all(np.array_equal(f, a) for f in get_generator("blend").interpolate(a, a.copy(), 5))


@pytest.mark.parametrize("name", ["hold", "blend"])
def test_zero_frames_between(name, textured):
    a = textured(4, 4)
    assert get_generator(name).interpolate(a, a, 0) == []


@pytest.mark.parametrize("name", ["hold", "blend"])
def test_motion_is_accepted_and_checked(name, textured):
    a, b = textured(8, 8, seed=1), textured(8, 8, seed=2)
    g = get_generator(name)
    with_motion = g.interpolate(a, b, 2, motion=[(1.0, 0.0, 1.0, 0.0)] * 3)
    assert all(np.array_equal(x, y) for x, y in zip(with_motion, g.interpolate(a, b, 2)))
    with pytest.raises(ValueError, match="motion has 2 steps"):
        g.interpolate(a, b, 2, motion=[(0, 0, 1, 0)] * 2)
    with pytest.raises(ValueError, match="zoom > 0"):
        g.interpolate(a, b, 1, motion=[(0, 0, 0, 0)] * 2)


@pytest.mark.parametrize("bad_b, message", [
    (np.zeros((8, 9, 3), np.uint8), "differ in size"),
    (np.zeros((8, 8, 3), np.float32), "uint8 array"),
    (np.zeros((8, 8), np.uint8), "uint8 array"),
    (np.zeros((0, 8, 3), np.uint8), "empty"),
])
def test_bad_frames_rejected(bad_b, message):
    with pytest.raises(ValueError, match=message):
        get_generator("blend").interpolate(np.zeros((8, 8, 3), np.uint8), bad_b, 1)


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_bad_count_rejected(n, textured):
    a = textured(4, 4)
    with pytest.raises(ValueError, match="n_between"):
        get_generator("hold").interpolate(a, a, n)


def test_frame_at_defaults_to_interpolate():
    a = np.zeros((4, 6, 3), np.uint8)
    b = np.full((4, 6, 3), 90, np.uint8)
    gen = get_generator("blend")
    assert np.array_equal(gen.frame_at(a, b, 2, 2), gen.interpolate(a, b, 2)[1])
    with pytest.raises(ValueError, match="index"):
        gen.frame_at(a, b, 2, 0)
