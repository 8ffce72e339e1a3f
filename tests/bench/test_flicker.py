import numpy as np

from tools.metrics.flicker import TemporalFlicker


def _run(ref, dist):
    f = TemporalFlicker()
    for r, d in zip(ref, dist):
        f.add(r, d)
    return f.result()


def test_identical_and_constant_offset_give_zero():
    rng = np.random.default_rng(0)
    ref = [rng.integers(20, 200, (16, 16)).astype(np.uint8) for _ in range(5)]
    assert _run(ref, ref) == 0.0
    assert _run(ref, [r + 7 for r in ref]) == 0.0  # a steady error does not flicker


def test_alternating_error_on_static_scene():
    # Static source; decoded frames alternate +3/-3: every frame difference is 6 off.
    ref = [np.full((8, 8), 100, np.uint8)] * 4
    dist = [np.full((8, 8), 100 + (3 if t % 2 else -3), np.uint8) for t in range(4)]
    assert _run(ref, dist) == 6.0


def test_single_frame_has_no_value():
    assert _run([np.zeros((4, 4), np.uint8)], [np.zeros((4, 4), np.uint8)]) is None
