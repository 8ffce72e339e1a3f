"""CMVC-LIC predicted payloads (spec 10.2.1.1): the integer rows, the range
coding given the previous keyframe's symbols, the shipped conditional tables,
the track encoder and decoder, and the fitting tool."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cmvc_format.errors import PayloadError
from cmvc_format.lic import conditional
from cmvc_format.lic.payload import parse_payload
from cmvc_format.lic.weights_file import QualityTable

ROOT = Path(__file__).resolve().parents[2]


def _table(channels=3, radius=5, seed=0):
    rng = np.random.default_rng(seed)
    freq = rng.integers(1, 40000 // (2 * radius + 1), size=(channels, 2 * radius + 1)).astype(np.int64)
    freq[:, radius] += 20000
    freq[:, radius] += (1 << 16) - freq.sum(axis=1)
    return QualityTable(radius, freq.astype(np.int32))


def _ctable(channels=3, same=60000, near=3000):
    out = np.empty((channels, conditional.CONTEXTS, 2), dtype=np.int32)
    out[..., 0], out[..., 1] = same, near
    return out


@pytest.mark.parametrize("radius", [5, 9, 113])
@pytest.mark.parametrize("weight", [0, 16, 200, 255])
def test_rows_are_valid_integer_rows(radius, weight):
    intra = _table(1, radius).frequencies[0]
    limit = (1 << 16) - 2 * radius - 1
    for same, near in [(1, 2), (limit - 2, 2), (1, limit - 1), (40000, 20000)]:
        for v in (-radius, -radius + 1, 0, 3, radius):
            row = conditional.row(intra, radius, same, near, v, weight)
            assert row.shape == (2 * radius + 1,) and row.dtype.kind == "i"
            assert row.min() >= 1 and row.sum() == 1 << 16
    # weight 0 is the intra row itself; 255 puts `same` (at least) on v
    np.testing.assert_array_equal(conditional.row(intra, radius, 50000, 9000, 2, 0), intra)
    assert conditional.row(intra, radius, 50000, 9000, 2, 255)[2 + radius] >= 50000


def test_predicted_range_coding_round_trip_and_golden_bytes():
    table, ctable = _table(), _ctable()
    rng = np.random.default_rng(3)
    prev = entropy_clamp(rng.laplace(0, 1.5, size=(3, 4, 6)).round(), table)
    symbols = prev.copy()
    symbols[0, 1, 2] += 1 if symbols[0, 1, 2] < 5 else -1
    symbols[2, 3, 5] = -5
    for weight in (0, 128, 255):
        data = conditional.encode(symbols, prev, table, ctable, weight)
        assert conditional.encode(symbols, prev, table, ctable, weight) == data
        np.testing.assert_array_equal(conditional.decode(data, prev, table, ctable, weight), symbols)
    # integer rows: the same bytes on every machine and constriction build
    assert hashlib.md5(conditional.encode(symbols, prev, table, ctable, 200)).hexdigest() == GOLDEN_MD5
    with pytest.raises(ValueError, match="do not match"):
        conditional.encode(symbols[:2], prev, table, ctable, 255)


GOLDEN_MD5 = "cb8ead0668da8cfda6bd80f4061c88b5"


def entropy_clamp(x, table):
    from cmvc_format.lic import entropy
    return entropy.clamp(x, table)


def test_encoder_weight_follows_how_much_repeats():
    table, ctable = _table(4), _ctable(4)
    rng = np.random.default_rng(5)
    prev = entropy_clamp(rng.laplace(0, 2, size=(4, 8, 8)).round(), table)
    unrelated = entropy_clamp(rng.laplace(0, 2, size=(4, 8, 8)).round(), table)
    assert conditional.choose_weight(prev, prev, table, ctable) == 255
    low = conditional.choose_weight(unrelated, prev, table, ctable)
    assert low < 128
    # the chosen weight codes unrelated symbols about as well as coding them alone
    from cmvc_format.lic import entropy
    alone = len(entropy.encode(unrelated, table))
    assert len(conditional.encode(unrelated, prev, table, ctable, low)) <= alone + 8
    assert len(conditional.encode(unrelated, prev, table, ctable, 255)) > alone


def test_tally_and_fit():
    prev = np.array([[[0, 0, 2, 5]]])
    cur = np.array([[[0, 1, 2, -1]]])
    counts = conditional.tally(cur, prev)
    assert counts.shape == (1, conditional.CONTEXTS, 3)
    assert counts[0, 0].tolist() == [1, 1, 0]  # v = 0: one same, one near
    assert counts[0, 2].tolist() == [1, 0, 0]  # v = 2: same
    assert counts[0, 3].tolist() == [0, 0, 1]  # |v| >= 3: other
    fitted = conditional.fit(counts, radius=5)
    assert fitted.dtype == np.int32 and (fitted[..., 0] >= 1).all() and (fitted[..., 1] >= 2).all()
    assert (fitted.sum(-1) <= (1 << 16) - 11).all()
    heavy = conditional.fit(np.array([[[10 ** 9, 0, 0]] * conditional.CONTEXTS]), radius=113)
    assert heavy[0, 0, 0] + heavy[0, 0, 1] <= (1 << 16) - 227


# -- with the shipped weights -------------------------------------------------

@pytest.fixture(scope="module")
def codec():
    from cmvc_format.lic.codec import load_codec
    return load_codec()


def _frames(n, step=5):
    import av
    with av.open(str(ROOT / "samples/person_walk_384x216.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f, _ in zip(c.decode(video=0), range(n * step))]
    return frames[::step][:n]


def test_shipped_tables_are_named_listed_and_pinned(codec):
    from cmvc_format.lic.weights_file import WEIGHTS_DIR
    [path] = WEIGHTS_DIR.glob("lic-cond-*.safetensors")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert codec.cond_sha256 == digest and path.stem.endswith(digest[:8])
    assert digest in (ROOT / "spec/CMVC.md").read_text()
    assert set(codec.cond_tables) == set(range(codec.n_quality))
    for q, t in codec.cond_tables.items():
        assert t.shape == (codec.model.code_channels, conditional.CONTEXTS, 2)
        assert (t[..., 0] >= 1).all() and (t[..., 1] >= 2).all()
        assert (t.sum(-1) <= (1 << 16) - 2 * codec.tables[q].radius - 1).all()
    log = json.loads(path.with_suffix(".fit.json").read_text())
    assert log["file"] == path.name and log["lic"] == codec.lic_sha256
    assert "again.mkv" not in " ".join(log["clips"])  # measured on, so not fitted on


def test_predicted_payload_of_a_repeated_picture_is_small(codec):
    rgb = _frames(1)[0]
    q = 5
    prev = codec.symbols(rgb, q)
    alone = codec.payload_of_symbols(prev, q, rgb.shape[1], rgb.shape[0])
    symbols = codec.predicted_symbols_of_latent(codec.latent(rgb), q, prev)
    np.testing.assert_array_equal(symbols, prev)
    payload = codec.payload_of_symbols(symbols, q, rgb.shape[1], rgb.shape[0], prev=prev)
    head = parse_payload(payload)
    assert head.predicted and head.tables == codec.cond_id and head.weight == 255
    assert len(payload) < len(alone) / 4
    _, decoded = codec.decode_symbols(payload, prev, q)
    np.testing.assert_array_equal(decoded, prev)
    with pytest.raises(PayloadError, match="differs in quality or size"):
        codec.decode_symbols(payload, prev, q - 1)
    with pytest.raises(PayloadError, match="differs in quality or size"):
        codec.decode_symbols(payload, prev[:, :-1], q)
    other = bytearray(payload)
    other[12] ^= 0xFF  # the tables id
    with pytest.raises(PayloadError, match="needs conditional tables"):
        codec.decode_symbols(bytes(other), prev, q)


def test_keep_pulls_near_values_to_the_reference(codec):
    rgb = _frames(1)[0]
    latent = codec.latent(rgb)
    q = 6
    with codec._torch.inference_mode():
        code = codec.model.analyse(latent, q).float()[0].numpy()
    prev = codec.symbols_of_latent(latent, q).copy()
    prev[0] += 1  # every symbol of channel 0 one step off
    kept = codec.predicted_symbols_of_latent(latent, q, prev, keep=0.2)
    near = np.abs(code[0] - prev[0]) < 0.7
    assert near.any() and (~near).any()
    np.testing.assert_array_equal(kept[0][near], prev[0][near])
    np.testing.assert_array_equal(codec.predicted_symbols_of_latent(latent, q, prev, keep=0.0)[1:],
                                  codec.symbols_of_latent(latent, q)[1:])


def test_without_conditional_tables_predicted_coding_fails_clearly(tmp_path):
    from cmvc_format.lic.codec import LearnedImageCodec
    from cmvc_format.lic.weights_file import WEIGHTS_DIR, WeightsError

    [lic] = WEIGHTS_DIR.glob("lic-????????.safetensors")
    (tmp_path / lic.name).write_bytes(lic.read_bytes())
    bare = LearnedImageCodec(lic_path=tmp_path / lic.name)
    assert bare.cond_tables is None and len(bare.models()) == 2
    with pytest.raises(WeightsError, match="fit_lic_conditional"):
        bare.models(predicted=True)
    sym = np.zeros((bare.model.code_channels, 1, 1), dtype=np.int32)
    with pytest.raises(WeightsError, match="no conditional tables"):
        bare.payload_of_symbols(sym, 0, 8, 8, prev=sym)


def test_track_codes_groups_as_one_random_access_then_predicted(codec):
    from cmvc_format import Codec, KeyframePayload
    from ffmpeg_bridge.colors import ColorSpec
    from ffmpeg_bridge.keyframe_codecs import make_decoder, make_encoder

    frames = _frames(3)
    colors = ColorSpec()
    enc = make_encoder("lic", 384, 216, colors, 4)
    coded = enc.code_group(frames)
    heads = [parse_payload(d) for _, d in coded]
    assert [h.predicted for h in heads] == [False, True, True]
    assert {c for c, _ in coded} == {Codec.CMVC_LIC}
    assert [m.model_id for m in enc.models][-1].startswith("cmvc-lic-cond-")
    intra = make_encoder("lic-intra", 384, 216, colors, 4)
    alone = intra.code_group(frames)
    assert not any(parse_payload(d).predicted for _, d in alone)
    assert len(intra.models) == 2
    assert sum(len(d) for _, d in coded) < sum(len(d) for _, d in alone)

    def payload(data, ra):
        return KeyframePayload(0, Codec.CMVC_LIC, 384, 216, data, random_access=ra)

    dec = make_decoder(Codec.CMVC_LIC, colors)
    pictures = [dec.decode(payload(d, i == 0)) for i, (_, d) in enumerate(coded)]
    np.testing.assert_array_equal(pictures[0], codec.decode(coded[0][1]))
    from tools.metrics.psnr import mse, psnr_from_mse
    for k in (1, 2):  # as good as coding the keyframe alone, give or take the encoder's keep
        own = psnr_from_mse(mse(frames[k], pictures[k]))
        assert own > psnr_from_mse(mse(frames[k], codec.decode(alone[k][1]))) - 1.0
    dec.reset()
    with pytest.raises(PayloadError, match="without a previous keyframe"):
        dec.decode(payload(coded[1][1], False))
    dec.decode(payload(coded[0][1], True))
    with pytest.raises(PayloadError, match="random-access flag"):
        dec.decode(payload(coded[0][1], False))


def test_fit_tool_is_deterministic(tmp_path):
    from tools import fit_lic_conditional as tool

    clip = ROOT / "samples/person_walk_384x216.mp4"
    names = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert tool.main(["--clips", str(clip), "--gaps", "5", "--max-frames", "11", "--out", str(out),
                          "--threads", "1"]) == 0
        [path] = out.glob("lic-cond-*.safetensors")
        names.append(path.name)
        log = json.loads(path.with_suffix(".fit.json").read_text())
        assert log["keyframe_pairs"] == 2
    assert names[0] == names[1]


def test_fit_tool_evaluate_writes_sizes_alone_and_predicted(tmp_path):
    from tools import fit_lic_conditional as tool

    out = tmp_path / "sizes.json"
    assert tool.main(["--evaluate", str(ROOT / "samples/person_walk_384x216.mp4"), "--gaps", "5",
                      "--max-frames", "11", "--qualities", "0,4", "--json", str(out), "--threads", "1"]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["quality"], r["keyframes"]) for r in rows] == [(0, 2), (4, 2)]
    for r in rows:
        assert 0 < r["predicted_bytes"] <= r["random_access_bytes"]
        assert abs(r["saving"] - (1 - r["predicted_bytes"] / r["random_access_bytes"])) < 1e-3
    assert tool.main(["--evaluate", str(tmp_path / "missing.mp4")]) == 2
