"""tools/bench_keyframe_codec.py: the anchor codecs end to end on one tiny image, and the RD helpers."""
import json
import math
import subprocess
import sys

import pytest
from PIL import Image

from tests.bench.synth import REPO, pattern_rgb
from tools import bench_keyframe_codec as kb

# Two settings per codec, lowest quality first (avif: crf, lower = better).
SETTINGS = {"jpeg": (10, 60), "webp": (10, 70), "avif": (55, 30)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("kfbench")
    images = d / "images"
    images.mkdir()
    Image.fromarray(pattern_rgb(48, 64)).save(images / "tiny.png")
    out = d / "out"
    argv = ["--images", str(images), "--methods", "jpeg,webp,avif", "--metrics", "psnr,msssim",
            "--out", str(out)]
    for name, values in SETTINGS.items():
        argv += ["--settings", f"{name}={','.join(map(str, values))}"]
    rc = kb.main(argv)
    return rc, out, json.loads((out / "results.json").read_text())


def test_outputs(run):
    rc, out, results = run
    assert rc == 0
    assert (out / "rd.png").stat().st_size > 1000
    summary = (out / "summary.md").read_text()
    assert "## BD-rate vs avif" in summary and "| avif | crf 30 |" in summary
    assert results["images"] == [{"name": "tiny", "width": 64, "height": 48}]
    assert results["settings"]["metrics"] == ["psnr", "msssim"]
    env = results["environment"]
    assert env["cpu_count"] >= 1 and env["torch_threads"] >= 1 and env["av"] and env["pillow"]


def test_rows_and_means(run):
    _, _, results = run
    assert len(results["rows"]) == 6
    for row in results["rows"]:
        assert row["bpp"] == pytest.approx(row["bytes"] * 8 / (64 * 48))
        assert 10 < row["psnr"] < 60 and 0 < row["msssim"] <= 1
        assert row["encode_s"] > 0 and row["decode_s"] > 0
        assert "lpips" not in row and "dists" not in row
    for name, values in SETTINGS.items():
        means = results["means"][name]
        assert [m["setting"] for m in means] == list(values)
        assert means[0]["bpp"] < means[1]["bpp"], name  # more bits at the higher quality
        assert means[0]["psnr"] < means[1]["psnr"], name
        assert results["codecs"][name]["status"] == "ok"


def test_bd_tables_and_bar(run):
    _, _, results = run
    assert set(results["bd_rate"]) == {"jpeg", "webp"}
    for per in results["bd_rate"].values():
        assert set(per) == {"psnr", "msssim"}
        assert set(per["psnr"]) >= {"full", "le_0.05"}
    assert set(results["psnr_gap"]) == {"jpeg", "webp"}
    bar = results["bar"]
    assert bar["met"] is None and "cmvc-lic not run" in bar["note"]
    assert [c["name"] for c in bar["criteria"]] == ["lpips_bd_rate_le_0.05", "psnr_gap_le_0.05",
                                                    "encode_decode_s"]


def test_avif_payload_is_bare_obus():
    """Sequence header then frame: no temporal delimiter, no container."""
    codec = kb.AvifCodec()
    rgb = pattern_rgb(48, 64)
    payload = codec.encode(rgb, 50)
    kinds = [kind for kind, _ in kb.av1_obus(payload)]
    assert kinds[0] == 1 and 2 not in kinds and sum(len(o) for _, o in kb.av1_obus(payload)) == len(payload)
    assert codec.decode(payload, 48, 64).shape == (48, 64, 3)


def test_clip_curve_closes_at_the_edge():
    rates, quals = [0.02, 0.04, 0.08, 0.16], [20.0, 22.0, 24.0, 26.0]
    r, q = kb.clip_curve(rates, quals, 0.05)
    assert r[:2] == [0.02, 0.04] and r[-1] == 0.05 and 22.0 < q[-1] < 24.0
    assert kb.clip_curve(rates, quals, 0.03) is None  # one measured point only
    assert kb.clip_curve(rates[:2], quals[:2], 0.05) == (rates[:2], quals[:2])


def test_psnr_gap_of_a_shifted_curve():
    anchor = [{"bpp": b, "psnr": p} for b, p in [(0.02, 20.0), (0.04, 22.0), (0.08, 24.0)]]
    test = [{"bpp": b, "psnr": p - 0.5} for b, p in [(0.02, 20.0), (0.04, 22.0), (0.08, 24.0)]]
    gap = kb.psnr_gap(anchor, test)
    assert gap["mean_db"] == pytest.approx(-0.5) and len(gap["points"]) == 2  # 0.08 is above 0.05
    assert math.isclose(kb.bd_table({"avif": anchor, "x": anchor}, ["psnr"])["x"]["psnr"]["full"], 0.0,
                        abs_tol=1e-9)


def test_bad_arguments_one_line(tmp_path):
    for args in (["--images", str(tmp_path / "missing")], ["--methods", "jpeg,png"]):
        proc = subprocess.run([sys.executable, "tools/bench_keyframe_codec.py", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr


def test_bd_rate_of_a_cheaper_curve_in_both_regions():
    anchor = [{"bpp": b, "psnr": p} for b, p in [(0.01, 20.0), (0.02, 21.5), (0.04, 23.0), (0.08, 24.5)]]
    test = [dict(m, bpp=m["bpp"] * 0.9) for m in anchor]
    bd = kb.bd_table({"avif": anchor, "x": test}, ["psnr"])["x"]["psnr"]
    assert bd["full"] == pytest.approx(-10.0) and bd["le_0.05"] == pytest.approx(-10.0, abs=0.5)


def _bar(lpips_bd, gap_db, seconds):
    rows = [{"codec": "cmvc-lic", "setting": 0, "width": 768, "height": 512, "encode_s": seconds / 2,
             "decode_s": seconds / 2}]
    bd = {"cmvc-lic": {"lpips": {"le_0.05": lpips_bd}}}
    return kb.bar_block({"avif": [], "cmvc-lic": []}, bd, {"cmvc-lic": {"mean_db": gap_db}}, rows, {})


def test_bar_verdicts():
    assert _bar(-25.0, -0.5, 0.8)["met"] is True
    assert _bar(-15.0, -0.5, 0.8)["met"] is False
    assert _bar(-25.0, -1.5, 0.8)["met"] is False
    assert _bar(-25.0, -0.5, 1.2)["met"] is False
    undetermined = _bar(None, -0.5, 0.8)
    assert undetermined["met"] is None and undetermined["criteria"][0]["note"]


def test_bench_records_the_weights_and_precision_it_timed():
    """The lic timings depend on the precision, which follows the CPU; the
    bench's results and summary must say which ran."""
    config = kb.LicCodec().config()
    assert config["precision"] in ("fp32", "bf16") and config["weights"].startswith("lic-")
    assert config["transform"].startswith("taef2s-")
    results = json.loads((REPO / "tools/results/keyframe-codec/results.json").read_text())
    results["codecs"]["cmvc-lic"]["config"] = config
    text = kb.markdown(results)
    assert f"networks in {config['precision']}" in text and config["transform"] in text


def test_av1_lr_is_benchmarked_and_judged(tmp_path):
    """av1-lr-intra: the av1-intra payload plus the 7-byte header, counted;
    the bar is judged for it next to cmvc-lic's."""
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(pattern_rgb(48, 64)).save(images / "tiny.png")
    argv = ["--images", str(images), "--methods", "avif,av1-intra,av1-lr-intra", "--metrics", "psnr",
            "--out", str(tmp_path / "out")]
    for name in ("avif", "av1-intra", "av1-lr-intra"):
        argv += ["--settings", f"{name}=55,30"]
    assert kb.main(argv) == 0
    results = json.loads((tmp_path / "out/results.json").read_text())
    size = {(r["codec"], r["setting"]): r["bytes"] for r in results["rows"]}
    assert all(size["av1-lr-intra", s] == size["av1-intra", s] + 7 for s in (55, 30))
    assert [bar["codec"] for bar in results["bars"]] == ["cmvc-lic", "av1-lr-intra"]
    assert results["codecs"]["av1-lr-intra"]["config"]["weights"].startswith("av1lr-")
    assert "bar for av1-lr-intra vs avif" in (tmp_path / "out/summary.md").read_text()
