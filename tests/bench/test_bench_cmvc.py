"""CMVC as a benchmark method: named by its density in bits per pixel."""
import json

import pytest
import torch

from tests.bench.synth import make_testsrc
from tools.bench.cli import main
from tools.bench.errors import BenchError
from tools.bench.methods import CMVCMethod, Job, classical


def test_cmvc_method_names():
    m = classical("cmvc-bpp0.002")
    assert isinstance(m, CMVCMethod) and m.family == "cmvc" and m.generator == "rife"
    job = Job(src=None, width=640, height=480, fps=30, frames=10, workdir=None)
    assert m.target_kbps(job) == pytest.approx(0.002 * 640 * 480 * 30 / 1000)
    assert "--target-kbps" in m.encode_cmd(job, "b.cmvc")
    hold = classical("cmvc-bpp0.01-hold")
    assert hold.family == "cmvc-hold" and "hold" in hold.decode_cmd(job, "b", "d")
    with pytest.raises(BenchError):
        classical("cmvc-bpp2")


def test_cmvc_in_the_harness(tmp_path):
    clip = make_testsrc(tmp_path / "tiny.y4m", size="176x144", frames=12, rate="12")
    out = tmp_path / "out"
    threads = torch.get_num_threads()
    rc = main([str(clip), "--methods", "cmvc-bpp0.05-hold", "--metrics", "psnr", "--out", str(out)])
    torch.set_num_threads(threads)
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    m = res["clips"][0]["methods"][0]
    assert m["name"] == "cmvc-bpp0.05-hold"
    assert m["bitstream_bytes"] > 0 and m["container_bytes"] > m["bitstream_bytes"]
    assert m["metrics"]["psnr_y"] > 10


def test_relative_output_folder(tmp_path, monkeypatch):
    """Methods run inside their work folder: a relative --out must still work."""
    clip = make_testsrc(tmp_path / "tiny.y4m", size="64x48", frames=4, rate="10")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    rc = main([str(clip), "--methods", "x264-crf51", "--metrics", "psnr", "--out", "rel"])
    torch.set_num_threads(threads)
    assert rc == 0
    res = json.loads((tmp_path / "rel" / "results.json").read_text())
    assert res["clips"][0]["methods"][0]["bitstream_bytes"] > 0


def test_default_clip_set_is_the_folders_own_videos(tmp_path, monkeypatch):
    import tools.bench.cli as cli_mod
    (tmp_path / "sub").mkdir()
    for name in ("a.mp4", "b.mkv", "notes.txt", "sub/c.mp4"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(cli_mod, "DEFAULT_CLIPS", tmp_path)
    assert [p.name for p in cli_mod.collect_clips([])] == ["a.mp4", "b.mkv"]
    assert [p.name for p in cli_mod.collect_clips([tmp_path / "sub"])] == ["c.mp4"]
