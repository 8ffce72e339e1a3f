"""Global similarity steps: matrix convention, composition and warping."""
import math

import numpy as np
import torch

from ffmpeg_bridge.generators.motion import cumulative, max_corner_displacement, step_matrix, warp_to

W, H = 40, 30
CENTRE = np.array([(W - 1) / 2, (H - 1) / 2, 1.0])


def apply(m, x, y):
    p = m @ np.array([x, y, 1.0])
    return p[0], p[1]


def test_identity_and_translation():
    assert np.allclose(step_matrix((0, 0, 1, 0), W, H), np.eye(3))
    assert np.allclose(apply(step_matrix((2.5, -1, 1, 0), W, H), 3, 4), (5.5, 3))


def test_zoom_and_rotation_are_about_the_centre():
    m = step_matrix((0, 0, 2.0, 0.3), W, H)
    assert np.allclose(m @ CENTRE, CENTRE)
    # Zoom 2 doubles distances from the centre.
    x, y = apply(step_matrix((0, 0, 2.0, 0), W, H), 0, 0)
    assert np.allclose((x, y), (2 * 0 - CENTRE[0], 2 * 0 - CENTRE[1]))
    # Positive rotation is counter-clockwise as displayed (y points down):
    # a point right of the centre moves above it.
    x, y = apply(step_matrix((0, 0, 1.0, math.pi / 2), W, H), CENTRE[0] + 5, CENTRE[1])
    assert np.allclose((x, y), (CENTRE[0], CENTRE[1] - 5))


def test_cumulative_composes_in_order():
    steps = [(3, 0, 1, 0), (0, 0, 2, 0)]  # move right, then zoom about the centre
    ms = cumulative(steps, W, H)
    assert len(ms) == 3 and np.allclose(ms[0], np.eye(3))
    x, y = apply(ms[2], CENTRE[0], CENTRE[1])
    assert np.allclose((x, y), (CENTRE[0] + 6, CENTRE[1]))  # the 3 px shift got zoomed too
    assert math.isclose(max_corner_displacement(ms[1], W, H), 3.0)


def test_warp_follows_the_convention():
    # A smooth analytic picture f; frame k+1 must show f(inverse_step(q)).
    step = (1.75, -0.5, 0.95, 0.04)  # zooming out brings in content from beyond the edges
    m = step_matrix(step, W, H)
    ys, xs = np.mgrid[0:H, 0:W].astype(float)

    def picture(x, y):
        return 0.5 + 0.25 * np.sin(0.21 * x + 0.13 * y) + 0.2 * np.cos(0.17 * y - 0.05 * x)

    frame_k = torch.from_numpy(picture(xs, ys)).view(1, 1, H, W)
    inv = np.linalg.inv(m)
    src_x = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    src_y = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    expected = picture(src_x, src_y)

    warped, valid = warp_to(frame_k, inv)
    valid = valid[0, 0].numpy()
    inside = (src_x >= 0) & (src_x <= W - 1) & (src_y >= 0) & (src_y <= H - 1)
    assert np.array_equal(valid & inside, inside)  # every truly inside pixel is marked valid
    err = np.abs(warped[0, 0].numpy() - expected)[inside]
    assert err.max() < 0.02  # bilinear error on a smooth picture
    # Content that comes from beyond the frame edges is not valid.
    far_outside = (src_x < -1) | (src_x > W) | (src_y < -1) | (src_y > H)
    assert far_outside.sum() > W and not valid[far_outside].any()


def test_warp_of_one_pixel_frame():
    img = torch.full((1, 3, 1, 1), 0.25)
    warped, valid = warp_to(img, step_matrix((0.2, 0.1, 1.0, 0.0), 1, 1))
    assert torch.equal(warped, img) and bool(valid.all())
