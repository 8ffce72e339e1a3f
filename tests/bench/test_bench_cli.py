"""End to end: the harness on a tiny generated clip, with classical and function methods."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.bench.synth import REPO, make_testsrc
from tools.bench.cli import main

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    clip = make_testsrc(d / "tiny.y4m", size="176x144", frames=10, rate="25")
    spec = d / "methods.json"
    env = {"PYTHONPATH": str(HERE)}
    spec.write_text(json.dumps({"methods": [
        {"name": "identity", "family": "identity", "bitstream_ext": ".y4m", "env": env,
         "encode_function": "identity_codec:encode", "decode_function": "identity_codec:decode_to_file"},
        {"name": "grey", "family": "grey", "env": env,
         "encode_function": "identity_codec:encode", "decode_function": "identity_codec:decode_to_rgb"},
    ]}))
    out = d / "out"
    threads = torch.get_num_threads()  # main() sets torch threads; leave other tests unaffected
    rc = main([str(clip), "--methods", "x264-crf51,vvenc-qp63", "--method-spec", str(spec),
               "--metrics", "psnr,msssim,flicker,vmaf", "--out", str(out), "--keep-decoded"])
    torch.set_num_threads(threads)
    results = json.loads((out / "results.json").read_text())
    return rc, out, results


def _method(results, name):
    return next(m for m in results["clips"][0]["methods"] if m["name"] == name)


def test_outputs_written(run):
    rc, out, results = run
    assert rc == 0
    summary = (out / "summary.md").read_text()
    assert summary.count("| x264-crf51 |") == 2  # the all-clips table and the clip's table
    assert "## tiny (176x144, 10 frames" in summary
    assert (out / "tiny.png").stat().st_size > 1000
    assert results["clips"][0]["frames"] == 10


def test_sizes_rates_and_timing_come_from_the_files(run):
    _, out, results = run
    clip = results["clips"][0]
    for name in ("x264-crf51", "vvenc-qp63"):
        m = _method(results, name)
        size = (out / "work" / "tiny" / m["bitstream_file"]).stat().st_size
        assert m["bitstream_bytes"] == size
        assert m["kbps"] == pytest.approx(size * 8 / (10 / 25) / 1000, rel=1e-4)
        assert m["bpp"] == pytest.approx(size * 8 / (176 * 144 * 10))
        assert m["container_bytes"] > size  # MP4 adds headers and indexes
        assert 0 < m["packet_bytes"] <= m["container_bytes"]
        for stage in ("encode", "decode"):
            assert m[stage]["wall_s"] > 0 and m[stage]["peak_rss_mib"] > 1
        assert 10 < m["metrics"]["psnr_y"] < 45 and 0 < m["metrics"]["msssim"] < 1
    assert clip["methods"][0]["name"] == "x264-crf51"


def test_function_methods(run):
    _, _, results = run
    ident = _method(results, "identity")["metrics"]
    assert ident["psnr_y"] == "inf" and ident["msssim"] == pytest.approx(1.0)
    assert ident["flicker"] == 0.0 and ident["vmaf"] > 99
    grey = _method(results, "grey")["metrics"]
    assert grey["psnr_y"] < 15 and grey["flicker"] > 0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tools.bench", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_bad_input_is_one_line_and_nonzero(tmp_path):
    for args in (["/no/such/clip.mp4"], ["--methods", "x264-crf99", str(tmp_path)],
                 ["--metrics", "psnr,bogus", str(tmp_path)]):
        proc = _cli(*args, "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, proc
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    proc = _cli(str(not_video), "--methods", "x264-crf51", "--out", str(tmp_path / "o2"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_help():
    proc = _cli("--help")
    assert proc.returncode == 0 and "--max-frames" in proc.stdout
