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


def test_variable_frame_rate_is_mapped_to_a_constant_rate(tmp_path):
    """Frames at irregular times come out at the stream's constant rate,
    keeping the duration (the last frame shown at each tick)."""
    from fractions import Fraction

    from ffmpeg_bridge.video_io import read_video
    src = tmp_path / "vfr.mkv"
    times_ms = [0, 100, 150, 200, 400, 500, 700, 800, 900]  # 10 fps on average, uneven
    with av.open(str(src), "w") as out:
        s = out.add_stream("ffv1", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            vf = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            vf.pts, vf.time_base = t, Fraction(1, 1000)
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    clip = read_video(str(src))
    assert clip.vfr_mapped
    assert len(clip.frames) == round(clip.fps * Fraction(1000, 1000))
    # at t = 0.3 s the frame shown is the one from 0.2 s (index 3)
    k = round(0.3 * clip.fps)
    assert abs(int(clip.frames[k][0, 0, 0]) - 60) <= 3


@pytest.mark.parametrize("ext", [".y4m", ".webm"])
def test_other_input_containers(tmp_path, ext):
    from fractions import Fraction

    from ffmpeg_bridge.colors import ColorSpec
    from ffmpeg_bridge.video_io import write_video
    frames = [textured(48, 64, seed=4, shift=i) for i in range(6)]
    src = tmp_path / f"in{ext}"
    write_video(frames, str(src), fps=Fraction(12), colors=ColorSpec(), width=64, height=48)
    out = tmp_path / "o.cmvc"
    cli("mux", src, out, "-q", check=True)
    s = read_stream(out)
    assert s.header.frame_count == 6 and s.header.frame_rate == 12


def test_hf_captioner_from_a_local_folder(tmp_path, tiny_blip_dir):
    """--captioner hf:DIR runs the real transformers loading code (on a tiny
    random model the test builds) and names the model in the stream."""
    out1, out2 = tmp_path / "a.cmvc", tmp_path / "b.cmvc"
    from .helpers import SAMPLE
    for out in (out1, out2):
        cli("mux", SAMPLE, out, "-q", "--max-frames", "8", "--captioner", f"hf:{tiny_blip_dir}", check=True)
    assert out1.read_bytes() == out2.read_bytes()
    s = read_stream(out1)
    roles = {m.role for m in s.header.models}
    from cmvc_format import ModelRole
    assert ModelRole.CAPTIONER in roles
    assert all(seg.content_caption for seg in s.segments)
