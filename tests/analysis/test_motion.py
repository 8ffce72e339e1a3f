"""Global motion estimation (spec 5.4 model 1) on synthetic clips with known motion."""
import math

import numpy as np
import pytest

av = pytest.importorskip("av")

from ffmpeg_bridge.analysis.motion import (  # noqa: E402
    ROTATION_UNIT, TX_UNIT, ZOOM_UNIT, dequantize, describe, estimate_global_motion,
    global_motion_from_frames, global_motion_from_vectors, motion_vectors, quantize,
)

W, H = 256, 144


def texture(h, w, seed=0):
    """Smooth random texture with some fine detail, float in [0, 255]."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w))
    for cell, amp in ((32, 1.0), (8, 0.6), (2, 0.25)):
        coarse = rng.random((h // cell + 2, w // cell + 2))
        img += amp * sample(coarse, *np.meshgrid(np.arange(w) / cell, np.arange(h) / cell))
    img -= img.min()
    return img * (255.0 / img.max())


def sample(img, x, y):
    """Bilinear sample of a 2-D array at float coordinates (clamped)."""
    h, w = img.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bot = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


def pan_frames(n, dx, dy, seed=0):
    """Frames of a window moving (dx, dy) px per frame over a big texture.

    The window moving right makes the content move left: tx = -dx.
    """
    big = texture(H + abs(dy) * n + 8, W + abs(dx) * n + 8, seed)
    x0 = 4 if dx >= 0 else 4 + abs(dx) * n
    y0 = 4 if dy >= 0 else 4 + abs(dy) * n
    return [big[y0 + k * dy:y0 + k * dy + H, x0 + k * dx:x0 + k * dx + W] for k in range(n)]


def warp_frames(n, log2_zoom=0.0, rotation=0.0, seed=1):
    """Frames whose content grows by 2**log2_zoom and turns ``rotation`` rad
    counter-clockwise (as displayed) per frame, about the picture centre."""
    big = texture(3 * H, 3 * W, seed)
    cb = np.array([(3 * W - 1) / 2, (3 * H - 1) / 2])
    c = np.array([(W - 1) / 2, (H - 1) / 2])
    qx, qy = np.meshgrid(np.arange(W) - c[0], np.arange(H) - c[1])
    out = []
    for k in range(n):
        s, r = 2.0 ** (k * log2_zoom), k * rotation
        # Content at u in frame 0 is at M u in frame k, M = s [[cos, sin], [-sin, cos]]
        # (y down): frame k's pixel q shows frame-0 content at M^-1 q.
        ux = (math.cos(r) * qx - math.sin(r) * qy) / s
        uy = (math.sin(r) * qx + math.cos(r) * qy) / s
        out.append(sample(big, ux + cb[0], uy + cb[1]))
    return out


def to_rgb(frames):
    return [np.repeat(np.clip(np.rint(f), 0, 255).astype(np.uint8)[..., None], 3, 2) for f in frames]


def encode(frames, path, fps=25, **options):
    """Encode frames with libx264 (yuv420p, x264 defaults unless overridden)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "16", **options}
        for f in to_rgb(frames):
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory):
    # Camera moving right 3 px and down 1 px per frame: content tx = -3, ty = -1.
    # x264's defaults: B-frames (pyramid) and 3 references.
    return encode(pan_frames(30, 3, 1), tmp_path_factory.mktemp("mv") / "pan.mp4")


def test_vectors_are_deterministic(pan_clip):
    a, b = motion_vectors(pan_clip), motion_vectors(pan_clip)
    assert len(a) == len(b) == 30
    assert a[0] is None  # the IDR frame has none
    assert sum(x is not None for x in a) >= 25
    for x, y in zip(a, b):
        assert (x is None) == (y is None)
        if x is not None:
            assert np.array_equal(x, y)


def test_vectors_recover_a_pan(pan_clip):
    params = estimate_global_motion(pan_clip, method="mvs")
    assert params.shape == (30, 4)
    assert np.all(params[0] == 0)
    rows = params[1:]
    assert np.all(np.isfinite(rows))
    assert np.max(np.abs(rows[:, 0] - (-3))) < 0.5
    assert np.max(np.abs(rows[:, 1] - (-1))) < 0.5
    assert np.max(np.abs(rows[:, 2])) < 0.01 and np.max(np.abs(rows[:, 3])) < 0.01


def test_vectors_without_pictures_on_an_ipp_stream(tmp_path):
    # No B-frames, one reference: every vector points at the previous frame,
    # so the structure-only reference guess of global_motion_from_vectors is exact.
    path = encode(pan_frames(20, -2, 0, seed=3), tmp_path / "ipp.mp4", bf="0", refs="1")
    mvs = motion_vectors(path)
    params = global_motion_from_vectors(mvs, W, H)
    assert np.max(np.abs(params[1:, 0] - 2)) < 0.5  # camera left: content right
    assert np.max(np.abs(params[1:, 1])) < 0.5


MV_DTYPE = np.dtype([("source", "int32"), ("w", "uint8"), ("h", "uint8"), ("src_x", "int16"),
                     ("src_y", "int16"), ("dst_x", "int16"), ("dst_y", "int16"), ("flags", "uint64"),
                     ("motion_x", "int32"), ("motion_y", "int32"), ("motion_scale", "uint16")], align=True)


def fake_vectors(displacement, source, rng, outliers=0.2):
    """16x16 block vectors (quarter-pel, FFmpeg's layout) for a content shift."""
    gy, gx = np.mgrid[0:H // 16, 0:W // 16]
    mv = np.zeros(gx.size, MV_DTYPE)
    mv["source"], mv["w"], mv["h"], mv["motion_scale"] = source, 16, 16, 4
    mv["dst_x"], mv["dst_y"] = gx.ravel() * 16 + 8, gy.ravel() * 16 + 8
    # content motion = dst - src, and src = dst + motion / motion_scale
    m = np.tile(-np.asarray(displacement) * 4, (gx.size, 1))
    bad = rng.random(gx.size) < outliers  # a moving object's blocks
    m[bad] += rng.integers(-40, 40, size=(int(bad.sum()), 2))
    mv["motion_x"], mv["motion_y"] = np.rint(m[:, 0]), np.rint(m[:, 1])
    mv["src_x"] = mv["dst_x"] + mv["motion_x"] // 4
    mv["src_y"] = mv["dst_y"] + mv["motion_y"] // 4
    return mv


def test_interval_solution_over_many_frames():
    # 600 frames (several solver windows), a varying pan, references one or
    # two frames back, and 20 % outlier blocks.
    rng = np.random.default_rng(2)
    n = 600
    steps = np.zeros((n, 2))
    steps[1:, 0] = np.round(2 * np.sin(np.arange(1, n) / 40) * 4) / 4
    steps[1:, 1] = 0.5
    dist = [(None, None)] + [(1 if i % 3 else 2, None) for i in range(1, n)]
    dist[1] = (1, None)
    mvs = [None] + [fake_vectors(steps[i - d + 1:i + 1].sum(0), -1, rng) for i, (d, _) in enumerate(dist) if i]
    params = global_motion_from_vectors(mvs, W, H, ref_distances=dist)
    assert np.all(np.isfinite(params))
    assert np.max(np.abs(params[:, :2] - steps)) < 0.05
    assert np.max(np.abs(params[:, 2:])) < 1e-3


def test_vectors_recover_zoom(tmp_path):
    z = math.log2(1.02)
    path = encode(warp_frames(20, log2_zoom=z), tmp_path / "zoom.mp4")
    params = estimate_global_motion(path, method="mvs")
    zooms = params[1:, 2]
    assert np.all(np.isfinite(zooms))
    assert np.all(zooms > 0)
    assert abs(float(np.median(zooms)) - z) < 0.3 * z
    assert np.max(np.abs(params[1:, :2])) < 0.5


def test_flow_recovers_translation_on_raw_frames():
    params = global_motion_from_frames(pan_frames(6, 5, -2, seed=4))
    assert np.all(params[0] == 0)
    assert np.max(np.abs(params[1:, 0] - (-5))) < 0.05
    assert np.max(np.abs(params[1:, 1] - 2)) < 0.05
    assert np.max(np.abs(params[1:, 2:])) < 2e-3


def test_flow_recovers_a_fast_pan():
    # 30 px per frame is beyond the coarse block search radius: the phase
    # correlation peak has to supply the search centre.
    params = global_motion_from_frames(pan_frames(3, 30, 0, seed=8))
    assert np.max(np.abs(params[1:, 0] - (-30))) < 0.05
    assert np.max(np.abs(params[1:, 1])) < 0.05


def test_flow_recovers_zoom_and_rotation():
    z, r = math.log2(1.015), 0.01
    params = global_motion_from_frames(to_rgb(warp_frames(4, log2_zoom=z, rotation=r)))
    assert np.allclose(params[1:, 2], z, atol=0.05 * z)
    assert np.allclose(params[1:, 3], r, atol=0.05 * r)  # positive: counter-clockwise
    assert np.max(np.abs(params[1:, :2])) < 0.1


def test_auto_falls_back_to_flow_for_intra_only(tmp_path):
    path = encode(pan_frames(8, 4, 0, seed=5), tmp_path / "intra.mp4", g="1")
    assert all(mv is None for mv in motion_vectors(path))
    assert np.all(np.isnan(estimate_global_motion(path, method="mvs")[1:]))
    params = estimate_global_motion(path)
    assert np.max(np.abs(params[1:, 0] - (-4))) < 0.3


def test_flow_handles_a_moving_object():
    # A static camera with a bright square sliding across a fifth of the picture.
    frames = []
    bg = texture(H, W, seed=6)
    obj = texture(40, 40, seed=7) * 0.3 + 170
    for k in range(5):
        f = bg.copy()
        f[50:90, 20 + 8 * k:60 + 8 * k] = obj
        frames.append(f)
    params = global_motion_from_frames(frames)
    assert np.max(np.abs(params[:, :2])) < 0.2


def test_quantize_round_trip_and_clamp():
    rng = np.random.default_rng(0)
    p = rng.normal(scale=[5, 5, 0.02, 0.02], size=(50, 4))
    q = quantize(p)
    assert all(isinstance(v, int) for row in q for v in row)
    back = dequantize(q)
    units = np.array([TX_UNIT, TX_UNIT, ZOOM_UNIT, ROTATION_UNIT])
    assert np.all(np.abs(back - p) <= units / 2 + 1e-12)
    assert quantize([[1e6, -1e6, 100.0, -100.0]]) == [(32767, -32768, 32767, -32768)]
    assert quantize([[1.0, -0.5, 1 / 4096, 1 / 8192]]) == [(16, -8, 1, 1)]
    with pytest.raises(ValueError):
        quantize([[np.nan, 0, 0, 0]])


def steady(n, tx=0.0, ty=0.0, zoom=0.0, rot=0.0):
    return np.tile([tx, ty, zoom, rot], (n, 1)).astype(float)


def test_describe_directions_and_stillness():
    fps, w, h = 25, 640, 360
    assert describe(steady(50), fps, w, h) == "the camera holds still"
    assert describe(steady(50, 0.1), fps, w, h) == "the camera holds still"  # 4 px/s
    # Content moving right = the camera pans left.
    assert describe(steady(50, 1.5), fps, w, h) == "the camera pans left slowly"  # 0.06 w/s
    assert describe(steady(50, -6.0), fps, w, h) == "the camera pans right"  # 0.23 w/s
    assert describe(steady(50, -20.0), fps, w, h) == "the camera pans right quickly"
    assert describe(steady(50, 0, 5.0), fps, w, h) == "the camera tilts up"
    assert "zooms in" in describe(steady(50, zoom=0.004), fps, w, h)
    assert "zooms out" in describe(steady(50, zoom=-0.004), fps, w, h)
    assert describe(steady(50, rot=0.004), fps, w, h) == "the camera rolls clockwise"


def test_describe_phases_and_noise():
    fps, w, h = 25, 640, 360
    rng = np.random.default_rng(1)
    p = np.vstack([steady(50, 1.5), steady(40)]) + rng.normal(scale=0.2, size=(90, 4)) * [1, 1, 0, 0]
    assert describe(p, fps, w, h) == "the camera pans left slowly, then holds still"
    # A brief jolt shorter than MIN_PHASE_S is not a phase of its own.
    p = steady(60, -6.0)
    p[30:33, 0] = 20.0
    assert describe(p, fps, w, h) == "the camera pans right"
    assert describe(np.full((10, 4), np.nan), fps, w, h) == "the camera motion could not be measured"
    assert describe(p, fps, w, h) == describe(p.copy(), fps, w, h)
