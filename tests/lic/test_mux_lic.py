"""`cmvc-mux --keyframe-codec lic|lic-intra` end to end: the stream names the
weight files (the conditional tables only where payloads are predicted),
payloads are CMVC-LIC, and cmvc-decode reconstructs the keyframes."""
import json

import numpy as np

from cmvc_format import Codec, ModelRole, read_stream
from cmvc_format.lic.codec import load_codec

from ..e2e.helpers import SAMPLE, cli


def _mux(out, codec):
    """(payloads, {model id: SHA-256 hex} of the keyframe codec) of 12 frames at level 3."""
    cli("mux", SAMPLE, out, "-q", "--max-frames", "12", "--keyframe-codec", codec, "--quality", "3",
        "--generator", "blend", check=True)
    stream = read_stream(out)
    named = {m.model_id: m.sha256.hex() for m in stream.header.models if m.role == ModelRole.KEYFRAME_CODEC}
    return [p for seg in stream.segments for p in seg.payloads], named


def test_mux_and_decode_with_the_learned_codec(tmp_path):
    out = tmp_path / "lic.cmvc"
    payloads, named = _mux(out, "lic")
    assert len(payloads) > 1 and all(p.codec == Codec.CMVC_LIC for p in payloads)
    # one random-access group: the first payload alone (version 1), the rest predicted (version 2)
    assert [p.random_access for p in payloads] == [True] + [False] * (len(payloads) - 1)
    assert [p.data[2] for p in payloads] == [1] + [2] * (len(payloads) - 1)
    assert all(p.data[3] == 3 for p in payloads)  # the quality byte of the payload header
    assert named == dict(load_codec().models(predicted=True))
    y4m = tmp_path / "out.y4m"
    cli("decode", out, y4m, check=True)
    info = json.loads(cli("probe", out, "--json", check=True).stdout)
    assert info["frames"] == 12
    assert y4m.stat().st_size > 12 * 384 * 216 * 1.5


def test_quality_outside_the_codec_scale_is_refused(tmp_path):
    r = cli("mux", SAMPLE, tmp_path / "x.cmvc", "-q", "--keyframe-codec", "lic", "--quality", "50")
    assert r.returncode == 2 or r.returncode == 1
    assert b"--quality for lic must be 0..7" in r.stderr
    assert not (tmp_path / "x.cmvc").exists()


def test_target_kbps_with_the_learned_codec(tmp_path):
    out = tmp_path / "t.cmvc"
    cli("mux", SAMPLE, out, "-q", "--max-frames", "40", "--keyframe-codec", "lic", "--target-kbps", "12",
        "--gap-rule", "crf", "--report", tmp_path / "r.json", check=True)
    report = json.loads((tmp_path / "r.json").read_text())
    assert 0 <= report["quality"] <= 7
    kbps = out.stat().st_size * 8 / 4.0 / 1000  # 40 frames at 10 fps
    assert kbps <= 12 * 1.10
    assert np.isfinite(kbps)


def test_lic_intra_codes_every_keyframe_alone(tmp_path):
    out = tmp_path / "intra.cmvc"
    payloads, named = _mux(out, "lic-intra")
    assert len(payloads) > 1 and all(p.random_access and p.data[2] == 1 for p in payloads)
    assert named == dict(load_codec().models())  # no conditional tables
    predicted = tmp_path / "pred.cmvc"
    _mux(predicted, "lic")
    assert predicted.stat().st_size < out.stat().st_size
