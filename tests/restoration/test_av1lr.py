"""Keyframe codec 0x0004 (av1-lr): payload header, the restoration network,
the track encoder/decoder pair, and cmvc-mux end to end."""
import json

import numpy as np
import pytest
import torch

from cmvc_format import Codec, KeyframePayload, ModelRole, PayloadError, read_stream
from cmvc_format.restoration import payload as av1lr_payload
from cmvc_format.restoration.model import WEIGHTS_DIR, RestorationModel, load_restoration
from cmvc_format.restoration.network import Restorer
from ffmpeg_bridge.colors import ColorSpec
from ffmpeg_bridge.keyframe_codecs import make_decoder, make_encoder
from ffmpeg_bridge.keyframe_codecs.av1 import AV1TrackDecoder

from ..e2e.helpers import SAMPLE, cli


def _picture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), (x + y) % 256], -1)
    return np.clip(base + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)


def test_payload_header_round_trip_and_refusals():
    data = av1lr_payload.build_payload(b"\x01\x02\x03\x04\x05", b"\x12\x00av1")
    assert data[:7] == b"\x00\x04\x01\x01\x02\x03\x04" and data[7:] == b"\x12\x00av1"
    parsed = av1lr_payload.parse_payload(data)
    assert parsed.model == b"\x01\x02\x03\x04" and parsed.data == b"\x12\x00av1"
    for bad, why in [(data[:7], "holds no more than"), (b"\x00\x03" + data[2:], "not 0x0004"),
                     (data[:2] + b"\x02" + data[3:], "version 2")]:
        with pytest.raises(PayloadError, match=why):
            av1lr_payload.parse_payload(bad)


def test_untrained_network_is_the_identity_and_shuffles_blocks():
    net = Restorer(8, 2).eval()
    x = torch.rand(1, 3, 6, 10)
    assert torch.equal(net(x), x)  # the last layers start at zero
    # with a tail that copies one input channel, the output is that 2x2 sub-position doubled
    with torch.no_grad():
        net.head.weight.zero_(), net.head.bias.zero_()
        net.head.weight[0, 5, 1, 1] = 1  # channel 5 = colour 1, block position (0, 1)
        net.tail.weight[5, 0, 1, 1] = 1
    y = net(x)
    assert torch.allclose(y[0, 1, 0::2, 1::2], 2 * x[0, 1, 0::2, 1::2])
    assert torch.equal(y[0, 0], x[0, 0]) and torch.equal(y[0, 1, 1::2], x[0, 1, 1::2])


def test_shipped_weights_are_named_by_their_hash_and_listed_in_the_spec():
    import hashlib
    files = sorted(WEIGHTS_DIR.glob("av1lr-*.safetensors"))
    assert len(files) == 1
    digest = hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert files[0].stem == f"av1lr-{digest[:8]}"
    assert files[0].with_suffix(".train.json").exists()
    spec = (WEIGHTS_DIR.parents[2] / "spec/CMVC.md").read_text()
    assert digest in spec
    net = load_restoration()
    assert net.sha256 == digest and net.model_id == bytes.fromhex(digest)[:4]


@pytest.mark.parametrize("shape", [(1, 1), (9, 17), (48, 64)])
def test_restore_keeps_size_and_stays_close(shape):
    rgb = _picture(*shape)
    out = load_restoration().restore(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    mse = np.mean((out.astype(float) - rgb) ** 2)
    assert 10 * np.log10(255 ** 2 / max(mse, 1e-9)) > 20  # a correction, not a new picture


def test_restore_runs_in_both_precisions(monkeypatch):
    rgb = _picture(32, 48, seed=3)
    path = sorted(WEIGHTS_DIR.glob("av1lr-*.safetensors"))[0]
    a = RestorationModel(path, precision="fp32").restore(rgb).astype(float)
    b = RestorationModel(path, precision="bf16").restore(rgb).astype(float)
    assert 10 * np.log10(255 ** 2 / max(np.mean((a - b) ** 2), 1e-9)) > 35
    monkeypatch.setenv("CMVC_LIC_PRECISION", "fp8")
    with pytest.raises(ValueError, match="fp32 or bf16"):
        RestorationModel(path)


def test_track_is_the_av1_track_plus_restoration():
    colors = ColorSpec()
    pictures = [_picture(36, 50, seed=s) for s in range(3)]
    enc = make_encoder("av1-lr", 50, 36, colors, 40)
    assert enc.predictive and enc.codec_id == Codec.AV1_LR
    assert [m.role for m in enc.models] == [ModelRole.KEYFRAME_CODEC]
    assert enc.models[0].model_id == load_restoration().name
    payloads = enc.encode_group(pictures)
    plain = AV1TrackDecoder(colors)
    dec = make_decoder(Codec.AV1_LR, colors)
    for k, data in enumerate(payloads):
        assert data[:3] == b"\x00\x04\x01"
        kp = KeyframePayload(k, Codec.AV1_LR, 50, 36, data, random_access=k == 0)
        restored = dec.decode(kp)
        av1 = plain.decode(KeyframePayload(k, Codec.AV1, 50, 36, data[7:], random_access=k == 0))
        assert restored.shape == (36, 50, 3)
        assert np.array_equal(restored, load_restoration().restore(av1))


def test_decoder_refuses_other_weights():
    colors = ColorSpec()
    data = make_encoder("av1-lr-intra", 16, 16, colors, 40).encode(_picture(16, 16), random_access=True)
    other = data[:3] + bytes(b ^ 0xFF for b in data[3:7]) + data[7:]
    with pytest.raises(PayloadError, match="needs restoration model"):
        make_decoder(Codec.AV1_LR, colors).decode(KeyframePayload(0, Codec.AV1_LR, 16, 16, other))


def test_mux_and_decode_with_av1_lr(tmp_path):
    out = tmp_path / "lr.cmvc"
    cli("mux", SAMPLE, out, "-q", "--max-frames", "12", "--keyframe-codec", "av1-lr", "--quality", "55",
        "--generator", "blend", check=True)
    stream = read_stream(out)
    payloads = [p for seg in stream.segments for p in seg.payloads]
    assert payloads and all(p.codec == Codec.AV1_LR for p in payloads)
    named = {m.model_id: m.sha256.hex() for m in stream.header.models if m.role == ModelRole.KEYFRAME_CODEC}
    net = load_restoration()
    assert named == {net.name: net.sha256}
    y4m = tmp_path / "out.y4m"
    cli("decode", out, y4m, check=True)
    assert json.loads(cli("probe", out, "--json", check=True).stdout)["frames"] == 12
    assert y4m.stat().st_size > 12 * 384 * 216 * 1.5


VECTORS = WEIGHTS_DIR.parents[2] / "spec/vectors/av1lr"


def _vectors():
    return json.loads((VECTORS / "vectors.json").read_text())


def test_vectors_name_the_shipped_weights():
    net = load_restoration()
    assert _vectors()["models"] == {net.name: net.sha256}


@pytest.mark.parametrize("entry", _vectors()["vectors"], ids=lambda e: e["payload"])
def test_conformance_payload(entry):
    import hashlib

    from PIL import Image

    from tools.metrics.psnr import mse, psnr_from_mse

    doc = _vectors()
    colors = ColorSpec(**doc["colors"])
    data = (VECTORS / entry["payload"]).read_bytes()
    w, h = entry["width"], entry["height"]
    av1 = AV1TrackDecoder(colors).decode(KeyframePayload(0, Codec.AV1, w, h, data[7:]))
    assert hashlib.md5(av1.tobytes()).hexdigest() == entry["av1_rgb_md5"]
    recon = make_decoder(Codec.AV1_LR, colors).decode(KeyframePayload(0, Codec.AV1_LR, w, h, data))
    recorded = np.asarray(Image.open(VECTORS / entry["reconstruction"]).convert("RGB"))
    assert recon.shape == recorded.shape == (h, w, 3)
    assert psnr_from_mse(mse(recon, recorded)) >= doc["recon_tolerance_db"]
