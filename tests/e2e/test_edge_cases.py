"""Inputs at the edges: tiny clips, odd sizes, scene cuts."""
import av
import numpy as np
import pytest

from cmvc_format import read_stream

from .helpers import cli, make_video, textured


def _roundtrip(tmp_path, frames, name, generator="blend", codec="libx264", **mux):
    src = make_video(tmp_path / f"{name}.mkv", frames, codec=codec)
    out = tmp_path / f"{name}.cmvc"
    args = [src, out, "-q"] + [x for k, v in mux.items() for x in (f"--{k.replace('_', '-')}", v)]
    cli("mux", *args, check=True)
    dec = tmp_path / f"{name}.y4m"
    cli("decode", out, dec, "--generator", generator, "-q", check=True)
    with av.open(str(dec)) as c:
        s = c.streams.video[0]
        got = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    return read_stream(out), got


@pytest.mark.parametrize("n", [1, 2])
def test_one_and_two_frame_videos(tmp_path, n):
    frames = [textured(64, 96, seed=i) for i in range(n)]
    stream, got = _roundtrip(tmp_path, frames, f"n{n}")
    assert stream.header.frame_count == n and len(got) == n
    assert sum(len(s.keyframes) for s in stream.segments) == n  # every frame is a keyframe


def test_odd_size_175x97(tmp_path):
    frames = [textured(97, 175, seed=1, shift=2 * i) for i in range(12)]
    stream, got = _roundtrip(tmp_path, frames, "odd", codec="ffv1")
    assert (stream.header.width, stream.header.height) == (175, 97)
    assert len(got) == 12 and got[0].shape == (97, 175, 3)
    # keyframes survive coding: first frame close to the source
    err = np.abs(got[0].astype(int) - frames[0]).mean()
    assert err < 20


def test_hard_scene_cut_starts_a_segment_and_a_random_access_point(tmp_path):
    a = [textured(72, 128, seed=3, shift=i) for i in range(10)]
    b = [255 - textured(72, 128, seed=9, shift=i) for i in range(10)]
    stream, got = _roundtrip(tmp_path, a + b, "cut")
    starts = {s.first_frame: s for s in stream.segments}
    assert 10 in starts and starts[10].scene_cut
    assert starts[10].payloads[0].random_access
    kf_frames = {s.first_frame + k for s in stream.segments for k in s.keyframes}
    assert {9, 10} <= kf_frames  # no interpolation across the cut
    assert len(got) == 20
    # frame 9 shows the first scene, frame 10 the second
    assert np.abs(got[9].astype(int) - a[9]).mean() < np.abs(got[9].astype(int) - b[0]).mean()
    assert np.abs(got[10].astype(int) - b[0]).mean() < np.abs(got[10].astype(int) - a[9]).mean()


def test_keyframe_codecs_and_strategies(tmp_path):
    frames = [textured(64, 96, seed=5, shift=3 * i) for i in range(16)]
    for codec in ("av1-intra", "raw"):
        stream, got = _roundtrip(tmp_path, frames, f"kc-{codec}", keyframe_codec=codec)
        assert all(p.random_access for s in stream.segments for p in s.payloads)
        assert len(got) == 16
    stream, _ = _roundtrip(tmp_path, frames, "uni", keyframe_strategy="uniform", interval=5)
    kfs = sorted(s.first_frame + k for s in stream.segments for k in s.keyframes)
    assert kfs == [0, 5, 10, 15]
