"""CMVC-LIC with the shipped weights: conformance payloads, round trips at
every quality level on odd sizes, and payloads it must refuse."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cmvc_format.errors import PayloadError
from cmvc_format.lic.codec import load_codec, symbols_md5
from cmvc_format.lic.payload import build_payload, parse_payload

VECTORS = Path(__file__).resolve().parents[2] / "spec/vectors/lic"


@pytest.fixture(scope="module")
def codec():
    return load_codec()


def _vectors():
    return json.loads((VECTORS / "vectors.json").read_text())


def _png(path):
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def _psnr(a, b):
    from tools.metrics.psnr import mse, psnr_from_mse
    return psnr_from_mse(mse(a, b))


def test_vectors_name_the_shipped_weights(codec):
    assert _vectors()["models"] == dict(codec.models(predicted=True))


@pytest.mark.parametrize("entry", _vectors()["vectors"], ids=lambda e: e["payload"])
def test_conformance_payload(codec, entry):
    payload = (VECTORS / entry["payload"]).read_bytes()
    prev = None
    if "reference" in entry:  # predicted: the reference's symbols come first
        _, prev = codec.decode_symbols((VECTORS / entry["reference"]).read_bytes())
        with pytest.raises(PayloadError, match="without a previous keyframe"):
            codec.decode_symbols(payload)
    head, symbols = codec.decode_symbols(payload, prev, entry["quality"])
    assert head.predicted == (prev is not None)
    assert (head.quality, head.width, head.height) == (entry["quality"], entry["width"], entry["height"])
    assert list(symbols.shape) == entry["symbols_shape"]
    assert symbols_md5(symbols) == entry["symbols_md5"]
    recon = codec.reconstruct(head, symbols)
    recorded = _png(VECTORS / entry["reconstruction"])
    assert recon.shape == recorded.shape
    assert _psnr(recon, recorded) >= _vectors()["recon_tolerance_db"]
    # The encoder runs float transforms before rounding, so another machine
    # may round a rare borderline value differently: compare, don't demand.
    # (The vectors were made in float32; bfloat16 moves more values.)
    source = _png(VECTORS / entry["source"])
    fp32 = load_codec(precision="fp32")
    if prev is None:
        again = fp32.symbols(source, entry["quality"])
    else:
        again = fp32.predicted_symbols_of_latent(fp32.latent(source), entry["quality"], prev)
    assert np.mean(again == symbols) >= 0.99


def _smooth_picture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + c) * 0.4 + np.cos(4 * yy - c) * 0.3 for c in (0, 1, 2)], -1)
    return np.clip((base + 0.5) * 255 + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("w,h", [(1, 1), (17, 9)])
def test_round_trip_every_quality_small(codec, w, h):
    rgb = _smooth_picture(h, w)
    sizes = []
    for q in range(codec.n_quality):
        payload = codec.encode(rgb, q)
        assert codec.encode(rgb, q) == payload  # deterministic
        head, symbols = codec.decode_symbols(payload)
        np.testing.assert_array_equal(symbols, codec.symbols(rgb, q))
        out = codec.decode(payload)
        assert out.shape == (h, w, 3) and out.dtype == np.uint8
        sizes.append(len(payload))
    assert sizes == sorted(sizes) or max(sizes) - min(sizes) <= 8  # tiny pictures: all near header size


@pytest.mark.slow
def test_round_trip_every_quality_1921x1081(codec):
    rgb = _smooth_picture(1081, 1921, seed=1)
    latent = codec.latent(rgb)
    sizes = []
    for q in range(codec.n_quality):
        symbols = codec.symbols_of_latent(latent, q)
        assert symbols.shape[1:] == (34, 61)  # ceil(1081/32), ceil(1921/32)
        payload = codec.payload_of_symbols(symbols, q, 1921, 1081)
        _, decoded = codec.decode_symbols(payload)
        np.testing.assert_array_equal(decoded, symbols)
        sizes.append(len(payload))
    assert sizes == sorted(sizes), sizes  # more bits at every higher level
    out = codec.decode(payload)
    assert out.shape == (1081, 1921, 3)
    assert _psnr(out, rgb) > 20


def test_refuses_foreign_or_damaged_payloads(codec):
    rgb = _smooth_picture(40, 64)
    payload = codec.encode(rgb, codec.n_quality - 1)
    head = parse_payload(payload)
    other_model = build_payload(head.quality, head.width, head.height, b"\x00\x11\x22\x33", head.data)
    with pytest.raises(PayloadError, match="needs model"):
        codec.decode(other_model)
    bad_quality = build_payload(200, head.width, head.height, head.model, head.data)
    with pytest.raises(PayloadError, match="quality 200"):
        codec.decode(bad_quality)
    # Cut data: either refused or decoded to some picture of the right size.
    for cut in (4, len(head.data) // 2 // 4 * 4):
        try:
            out = codec.decode(payload[:len(payload) - cut])
        except PayloadError:
            continue
        assert out.shape == rgb.shape


def test_weights_are_named_by_their_hash():
    from cmvc_format.lic.weights_file import WEIGHTS_DIR
    for path in WEIGHTS_DIR.glob("*.safetensors"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert path.stem.endswith(digest[:8])


def test_precisions_agree_within_the_conformance_tolerance(monkeypatch):
    entry = _vectors()["vectors"][0]
    payload = (VECTORS / entry["payload"]).read_bytes()
    outs = {p: load_codec(precision=p).decode(payload) for p in ("fp32", "bf16")}
    assert _psnr(outs["fp32"], outs["bf16"]) >= _vectors()["recon_tolerance_db"]
    monkeypatch.setenv("CMVC_LIC_PRECISION", "fp8")
    with pytest.raises(ValueError, match="fp32 or bf16"):
        load_codec(precision=None, lic_path=next(iter(sorted(
            (Path(__file__).resolve().parents[2] / "cmvc_format/lic/weights").glob("lic-*.safetensors")))))


def test_damaged_or_mismatched_weights_are_refused(tmp_path):
    from cmvc_format.lic.codec import LearnedImageCodec
    from cmvc_format.lic.weights_file import WEIGHTS_DIR, WeightsError, find_weights

    lic = find_weights("lic")
    damaged = tmp_path / lic.name
    data = bytearray(lic.read_bytes())
    data[-1] ^= 1
    damaged.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match its name"):
        LearnedImageCodec(lic_path=damaged)
    with pytest.raises(WeightsError, match="expected one lic"):
        find_weights("lic", tmp_path / "nothing-here")
    # A lic file that pins other TAEF2 weights than the ones given.
    with pytest.raises(WeightsError, match="need TAEF2"):
        LearnedImageCodec(lic_path=lic, taef2_path=lic)
    assert WEIGHTS_DIR.is_dir()


def test_shipped_tables_are_the_ones_the_shipped_prior_gives():
    """The tables are normative; they must follow from the stored prior, so
    re-exporting the same weights cannot change a bitstream."""
    from cmvc_format.lic.weights_file import load_codec_weights
    model, tables, _, _ = load_codec_weights()
    for q, table in tables.items():
        radius, freq = model.quantized_tables(q)
        assert radius == table.radius
        np.testing.assert_array_equal(freq, table.frequencies)


def test_exported_weights_do_not_depend_on_metadata_order():
    """safetensors writes metadata from a hash map; the export sorts the header
    so the same model always gets the same bytes, hash and name."""
    import torch
    from safetensors.torch import load, save

    from cmvc_format.lic.weights_file import canonical_safetensors

    tensors = {"b": torch.arange(5, dtype=torch.int32), "a": torch.ones(2, 3, dtype=torch.float16)}
    meta = {f"key{i}": str(i) for i in range(12)}
    files = {canonical_safetensors(save(tensors, metadata=dict(order)))
             for order in (sorted(meta.items()), sorted(meta.items(), reverse=True))}
    assert len(files) == 1
    data = files.pop()
    assert all(torch.equal(load(data)[k], tensors[k]) for k in tensors)
    assert (8 + int.from_bytes(data[:8], "little")) % 8 == 0


def test_pinned_autoencoder_is_found_by_its_full_hash(tmp_path):
    """find_by_hash: the lic weights name their autoencoder by SHA-256; a file
    that only shares the 8-digit name prefix is not it."""
    from cmvc_format.lic.weights_file import WeightsError, find_by_hash, find_weights, sha256_file

    slim = find_weights("taef2s")
    digest = sha256_file(slim)
    assert find_by_hash(digest) == slim
    (tmp_path / f"taef2s-{digest[:8]}.safetensors").write_bytes(b"not it")
    with pytest.raises(WeightsError, match="no weights file with SHA-256"):
        find_by_hash(digest, tmp_path)
