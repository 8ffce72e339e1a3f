"""The rate controller's trade between keyframe density and keyframe quality."""
from dataclasses import replace

import pytest

from ffmpeg_bridge import encoder
from ffmpeg_bridge.keyframe_codecs import quality_scale
from ffmpeg_bridge.video_io import read_video
from tests.e2e.helpers import SAMPLE


@pytest.fixture(scope="module")
def clip():
    return read_video(SAMPLE, max_frames=40)


def encode_with_density_cost(clip, monkeypatch, cost):
    scale = replace(quality_scale("av1"), density_cost=cost)
    monkeypatch.setattr(encoder, "quality_scale", lambda name: scale)
    opts = encoder.EncodeOptions(target_kbps=8.0, generator="blend", max_gap_seconds=0.25)
    _, report = encoder.encode(clip, opts)
    return report


def test_density_cost_trades_keyframes_for_quality(clip, monkeypatch):
    dense = encode_with_density_cost(clip, monkeypatch, 1000)   # never trade density away
    sparse = encode_with_density_cost(clip, monkeypatch, 0)     # any quality gain is worth it
    assert dense["max_gap_seconds"] == 0.25
    assert sparse["max_gap_seconds"] > 0.25
    assert sparse["keyframes"] < dense["keyframes"]
    assert sparse["quality"] < dense["quality"]                 # lower crf: finer keyframes
    for r in (dense, sparse):
        assert abs(r["kbps"] - 8.0) <= 0.8, r


def test_fixed_quality_off_the_search_ladder(clip, monkeypatch):
    """--quality with --target-kbps: only the keyframe count moves, so there is
    no density trade to weigh, even for a crf the search ladder lacks."""
    scale = replace(quality_scale("av1"), density_cost=0)
    monkeypatch.setattr(encoder, "quality_scale", lambda name: scale)
    assert 66 not in scale.ladder
    opts = encoder.EncodeOptions(target_kbps=8.0, quality=66, generator="blend", max_gap_seconds=0.25)
    _, report = encoder.encode(clip, opts)
    assert report["quality"] == 66 and report["max_gap_seconds"] == 0.25
