"""The main job through the real CLIs: cmvc-mux in.mp4 out.mkv, then
cmvc-decode out.mkv - | ffmpeg -i - out.mp4, and what other tools see."""
import json
import os
import subprocess

import av
import pytest

from cmvc_format import ModelRole, read_stream

from .helpers import SAMPLE, cli, have


@pytest.fixture(scope="module")
def muxed(tmp_path_factory):
    d = tmp_path_factory.mktemp("main")
    mkv = d / "sample.mkv"
    cli("mux", SAMPLE, mkv, "-q", "--report", d / "report.json", check=True)
    return mkv, json.loads((d / "report.json").read_text())


def test_mux_writes_an_mkv_ffmpeg_opens(muxed, ffmpeg):
    mkv, report = muxed
    with av.open(str(mkv)) as c:
        kinds = sorted(s.type for s in c.streams)
        assert kinds == ["attachment", "subtitle"]
        att = [s for s in c.streams if s.type == "attachment"][0]
        assert att.mimetype == "application/x-cmvc"
        subs = [bytes(p).decode() for p in c.demux(c.streams.subtitles[0]) if p.size]
        assert subs and "camera" in subs[0]
        assert c.metadata.get("title") == "person_walk_384x216"
    # the stream inside is a valid CMVC stream of the whole clip
    data = (mkv.parent / "x.cmvc")
    cli("demux", mkv, data, check=True)
    s = read_stream(data)
    assert s.header.frame_count == 80 and (s.header.width, s.header.height) == (384, 216)
    assert sum(seg.frame_count for seg in s.segments) == 80
    assert report["stream_bytes"] == data.stat().st_size
    # ffmpeg itself reads the file (subtitle track) without error
    r = subprocess.run([ffmpeg, "-v", "error", "-i", str(mkv), "-map", "0:s", "-f", "srt", "-"],
                       capture_output=True)
    assert r.returncode == 0 and b"-->" in r.stdout


def test_decode_pipe_into_ffmpeg(muxed, ffmpeg, tmp_path):
    mkv, _ = muxed
    out = tmp_path / "decoded.mp4"
    dec = subprocess.Popen(
        [os.sys.executable, "-m", "ffmpeg_bridge.cli.decode", str(mkv), "-", "--generator", "blend", "-q"],
        stdout=subprocess.PIPE)
    ff = subprocess.run([ffmpeg, "-v", "error", "-y", "-i", "-", "-c:v", "libx264", str(out)],
                        stdin=dec.stdout, capture_output=True)
    dec.stdout.close()
    assert dec.wait() == 0 and ff.returncode == 0, ff.stderr
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert n == 80
        assert (s.codec_context.width, s.codec_context.height) == (384, 216)
        assert s.average_rate == 10


def test_decode_to_files(muxed, tmp_path):
    mkv, _ = muxed
    for ext in (".y4m", ".mkv", ".mp4"):
        out = tmp_path / f"d{ext}"
        cli("decode", mkv, out, "--generator", "hold", "-q", check=True)
        with av.open(str(out)) as c:
            assert sum(1 for _ in c.decode(c.streams.video[0])) == 80


def test_bare_cmvc_output_and_stdout(tmp_path):
    bare = tmp_path / "s.cmvc"
    cli("mux", SAMPLE, bare, "-q", "--max-frames", "20", check=True)
    r = cli("mux", SAMPLE, "-", "-q", "--max-frames", "20", check=True)
    assert r.stdout == bare.read_bytes()  # deterministic, and '-' is stdout
    r = cli("decode", "-", "-", "--generator", "blend", "-q", input=bare.read_bytes(), check=True)
    assert r.stdout.startswith(b"YUV4MPEG2 W384 H216 F10:1")
    assert r.stdout.count(b"FRAME\n") == 20


def test_attachment_is_byte_identical_for_ffmpeg_and_mkvextract(muxed, ffmpeg, tmp_path):
    mkv, _ = muxed
    expected = tmp_path / "expected.cmvc"
    cli("demux", mkv, expected, check=True)
    dumped = tmp_path / "ffmpeg.cmvc"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-dump_attachment:t:0", str(dumped), "-i", str(mkv),
                    "-map", "0:s", "-f", "null", "-"], capture_output=True)
    assert dumped.read_bytes() == expected.read_bytes()
    if not have("mkvextract"):
        if os.environ.get("CI"):
            pytest.fail("mkvextract (Debian mkvtoolnix) is missing: .ci/run installs it")
        pytest.skip("mkvextract not installed (apt-get install mkvtoolnix)")
    out = tmp_path / "mkvextract.cmvc"
    r = subprocess.run(["mkvextract", str(mkv), "attachments", f"1:{out}"], capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.read_bytes() == expected.read_bytes()


def test_probe_mkv(muxed):
    mkv, _ = muxed
    r = cli("probe", mkv, "--json", check=True)
    info = json.loads(r.stdout)
    assert info["frames"] == 80 and info["bytes"]["keyframes"] > 0


def test_target_kbps_lands_within_ten_percent(tmp_path):
    for target in (3.0, 6.0):
        out = tmp_path / f"t{target}.cmvc"
        cli("mux", SAMPLE, out, "-q", "--target-kbps", target, "--report", tmp_path / "r.json", check=True)
        kbps = out.stat().st_size * 8 / 8.0 / 1000  # the sample is 8 s long
        assert abs(kbps - target) <= 0.10 * target, (target, kbps)
        rc = json.loads((tmp_path / "r.json").read_text())["rate_control"]
        assert rc["gap_rule"] == "lpips" and rc["candidates"]  # the default, with RIFE


def test_mux_wraps_a_bare_stream_without_reencoding(tmp_path):
    bare = tmp_path / "s.cmvc"
    cli("mux", SAMPLE, bare, "-q", "--max-frames", "10", check=True)
    mkv = tmp_path / "s.mkv"
    cli("mux", bare, mkv, "-q", check=True)
    back = tmp_path / "back.cmvc"
    cli("demux", mkv, back, check=True)
    assert back.read_bytes() == bare.read_bytes()


def test_mux_options_change_the_stream(tmp_path):
    """Each coding option shows up in the stream it writes."""
    def mux(name, *opts):
        out = tmp_path / f"{name}.cmvc"
        cli("mux", SAMPLE, out, "-q", "--max-frames", "20", *opts, check=True)
        return out, read_stream(out)

    base, s0 = mux("base")
    small, s1 = mux("scaled", "--keyframe-scale", "0.5")
    p0, p1 = s0.segments[0].payloads[0], s1.segments[0].payloads[0]
    assert (p1.width, p1.height) == (192, 108) and (p0.width, p0.height) == (384, 216)
    coarse, _ = mux("coarse", "--quality", "63")
    fine, _ = mux("fine", "--quality", "30")
    assert coarse.stat().st_size < base.stat().st_size < fine.stat().st_size
    _, sb = mux("blend", "--generator", "blend")
    # blend needs no model; rife is named with its hash
    assert not [m for m in sb.header.models if m.role == ModelRole.INTERPOLATOR]
    assert [m.model_id for m in s0.header.models
            if m.role == ModelRole.INTERPOLATOR][0].startswith("rife-ifnet-4.25")
    _, sf = mux("flow", "--motion", "flow")
    assert sum(seg.frame_count for seg in sf.segments) == 20
    _, sg = mux("gap", "--max-gap-seconds", "0.3", "--segment-seconds", "1")
    kfs = sorted(seg.first_frame + k for seg in sg.segments for k in seg.keyframes)
    assert max(b - a for a, b in zip(kfs, kfs[1:])) <= 3 and len(sg.segments) == 2
    mkv = tmp_path / "t.mkv"
    cli("mux", SAMPLE, mkv, "-q", "--max-frames", "5", "--title", "My clip", check=True)
    with av.open(str(mkv)) as c:
        assert c.metadata.get("title") == "My clip"
