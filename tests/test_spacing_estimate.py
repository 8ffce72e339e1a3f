"""The LPIPS estimate the rate controller ranks keyframe spacings by."""
import numpy as np
import pytest

from ffmpeg_bridge.generators import get_generator
from ffmpeg_bridge.perceptual import estimate as E
from tests.generators.conftest import make_texture


class NoGenerator:
    def frame_at(self, *a, **kw):
        raise AssertionError("the decoder holds into a scene cut; nothing is generated there")


@pytest.fixture(scope="module")
def frames():
    return [make_texture(48, 64, seed=k, block=4 + k % 3) for k in range(9)]


def fake_stream(monkeypatch, keyframes):
    monkeypatch.setattr(E, "decode_keyframes", lambda stream: keyframes)


def test_weights_each_midpoint_by_its_gap(frames, monkeypatch):
    # Exact keyframes at 0, 4, 8 (LPIPS 0) and "hold" in between: the midpoints
    # 2 and 6 show frames 0 and 4, and stand for 3 frames each.
    fake_stream(monkeypatch, [(0, frames[0]), (4, frames[4]), (8, frames[8])])
    est = E.MidpointEstimator(frames, {}, set(), get_generator("hold"))
    got = est(b"")
    d2, d6 = est.net.compare(frames[2], [frames[0]])[0], est.net.compare(frames[6], [frames[4]])[0]
    assert d2 > 0.05 and d6 > 0.05
    assert got.lpips == round((3 * d2 + 3 * d6) / 8, E.DECIMALS)
    assert (got.gaps, got.midpoints) == (2, 2)


def test_holds_into_a_scene_cut(frames, monkeypatch):
    fake_stream(monkeypatch, [(0, frames[0]), (4, frames[4])])
    est = E.MidpointEstimator(frames, {}, {4}, NoGenerator())
    got = est(b"")
    assert got.midpoints == 0 and got.lpips > 0


def test_long_clips_score_a_spread_of_gaps(frames, monkeypatch):
    fake_stream(monkeypatch, [(k, frames[k]) for k in range(9)])
    got = E.MidpointEstimator(frames, {}, set(), get_generator("blend"), max_gaps=3)(b"")
    assert (got.gaps, got.midpoints, got.lpips) == (3, 0, 0.0)


def test_scores_on_one_thread_and_restores_the_count(frames, monkeypatch):
    """The choice decides the stream's bytes; a RIFE frame changed in a few
    pixels between 1 and 2 threads, so the estimate always runs on one."""
    torch = pytest.importorskip("torch")
    seen = []

    class Recording:
        def frame_at(self, a, b, n, i, motion=None):
            seen.append(torch.get_num_threads())
            return get_generator("blend").frame_at(a, b, n, i)

    fake_stream(monkeypatch, [(0, frames[1]), (8, frames[7])])
    est = E.MidpointEstimator(frames, {}, set(), Recording())
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        est(b"")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)
    assert seen == [1]


def test_decode_keyframes_gives_the_decoders_keyframes():
    from ffmpeg_bridge import encoder
    from ffmpeg_bridge.decoder import decode, decode_keyframes
    from ffmpeg_bridge.video_io import read_video
    from tests.e2e.helpers import SAMPLE

    clip = read_video(SAMPLE, max_frames=12)
    stream, report = encoder.encode(clip, encoder.EncodeOptions(generator="hold", max_gap_seconds=0.2))
    keyframes = decode_keyframes(stream)
    assert len(keyframes) == report["keyframes"] >= 3
    _, frames = decode(stream, generator="hold")
    frames = list(frames)
    for f, img in keyframes:
        assert np.array_equal(img, frames[f])
