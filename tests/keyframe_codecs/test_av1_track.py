"""The AV1 keyframe track: hierarchical prediction inside a random-access
group, one payload per keyframe in picture order, quarter-step crf."""
import numpy as np
import pytest

from cmvc_format import Codec, KeyframePayload
from ffmpeg_bridge.colors import ColorSpec
from ffmpeg_bridge.keyframe_codecs import quality_scale
from ffmpeg_bridge.keyframe_codecs.av1 import AV1TrackDecoder, AV1TrackEncoder

from ..e2e.helpers import SAMPLE, cli, textured

W, H = 96, 64


def _group(n=9):
    return [textured(H, W, seed=3, shift=4 * i) for i in range(n)]


def _decode(payloads):
    dec = AV1TrackDecoder(ColorSpec())
    return [dec.decode(KeyframePayload(i, Codec.AV1, W, H, d, random_access=i == 0))
            for i, d in enumerate(payloads)]


def _mse(a, b):
    return float(np.mean((a.astype(np.float64) - b) ** 2))


def test_group_gives_one_payload_per_keyframe_in_picture_order():
    pics = _group()
    payloads = AV1TrackEncoder(W, H, ColorSpec(), 40).encode_group(pics)
    assert len(payloads) == len(pics)
    got = _decode(payloads)
    for k, rgb in enumerate(got):
        assert rgb.shape == (H, W, 3)
        own = _mse(rgb, pics[k])
        # payload k shows keyframe k, not a neighbour (out-of-order coding inside)
        assert all(own < _mse(rgb, pics[j]) for j in (k - 1, k + 1) if 0 <= j < len(pics))


def test_track_is_deterministic_and_cheaper_than_intra():
    pics = _group()
    track = AV1TrackEncoder(W, H, ColorSpec(), 40).encode_group(pics)
    assert AV1TrackEncoder(W, H, ColorSpec(), 40).encode_group(pics) == track
    intra = AV1TrackEncoder(W, H, ColorSpec(), 40, intra_only=True).encode_group(pics)
    assert sum(map(len, track)) < sum(map(len, intra))
    assert len(intra) == len(pics)
    for i, d in enumerate(intra):  # each decodes alone
        assert AV1TrackDecoder(ColorSpec()).decode(
            KeyframePayload(0, Codec.AV1, W, H, d, random_access=True)).shape == (H, W, 3)


def test_quarter_step_crf_orders_sizes_and_extends_past_63():
    pics = _group(5)
    sizes = [sum(map(len, AV1TrackEncoder(W, H, ColorSpec(), q).encode_group(pics)))
             for q in (30, 30.25, 45, 63, 70)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[-2]


@pytest.mark.parametrize("q", [0.5, 60.3, 70.25])
def test_crf_off_the_scale_is_refused(q):
    assert not quality_scale("av1").accepts(q)
    with pytest.raises(ValueError):
        AV1TrackEncoder(W, H, ColorSpec(), q)


def test_cli_takes_a_quarter_step_quality_and_refuses_others(tmp_path):
    out = tmp_path / "q.cmvc"
    cli("mux", SAMPLE, out, "-q", "--max-frames", "6", "--keyframe-codec", "av1", "--quality", "62.75",
        check=True)
    assert out.stat().st_size > 0
    bad = tmp_path / "bad.cmvc"
    r = cli("mux", SAMPLE, bad, "-q", "--max-frames", "6", "--keyframe-codec", "av1", "--quality", "62.6")
    assert r.returncode != 0 and b"--quality for av1 must be 1..70" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not bad.exists()


def _sequence_header_flags(payload: bytes) -> tuple[int, int]:
    """(still_picture, reduced_still_picture_header) of the payload's
    sequence header OBU (AV1 spec 5.5.1: after the 3-bit seq_profile)."""
    from tools.bench_keyframe_codec import av1_obus

    (obu,) = [o for kind, o in av1_obus(payload) if kind == 1]
    body = obu[2:]  # one header byte, one leb128 size byte for these small headers
    return (body[0] >> 4) & 1, (body[0] >> 3) & 1


def test_intra_keyframes_use_still_picture_mode_and_reach_lower_rates():
    """av1-intra codes each keyframe as a still picture (as AVIF does), whose
    crf 64-70 go well below crf 63's rate; the track's random-access keyframe
    does not (it starts a sequence of predicted keyframes)."""
    pic = textured(H, W, seed=5)
    intra = {q: AV1TrackEncoder(W, H, ColorSpec(), q, intra_only=True).encode(pic, random_access=True)
             for q in (63, 70)}
    track = AV1TrackEncoder(W, H, ColorSpec(), 63).encode(pic, random_access=True)
    assert _sequence_header_flags(intra[63]) == (1, 1)
    assert _sequence_header_flags(track) == (0, 0)
    assert len(intra[70]) < len(intra[63])
    for data in intra.values():
        assert _decode([data])[0].shape == (H, W, 3)
