"""cmvc-probe through its real entry point."""
import json
import subprocess
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"
PROBE = [sys.executable, "-m", "ffmpeg_bridge.cli.probe"]


def _run(*args, stdin=None):
    return subprocess.run(PROBE + list(args), capture_output=True, input=stdin)


def test_probe_json_matches_the_stream():
    r = _run(str(VECTORS / "valid" / "multi_segment.cmvc"), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["frames"] == 24 and len(info["segments"]) == 3 and info["indexed"]
    assert info["size"] == (VECTORS / "valid" / "multi_segment.cmvc").stat().st_size
    assert set(info["bytes"]) >= {"keyframes", "captions", "motion", "container", "index"}


def test_probe_index_only_reads_the_index():
    r = _run(str(VECTORS / "valid" / "keyframe_track.cmvc"), "--index-only", "--json")
    info = json.loads(r.stdout)
    assert [s["rap_segment"] for s in info["segments"]] == [0, 0, 2, 2]


def test_probe_reads_stdin():
    data = (VECTORS / "valid" / "pipe_no_index.cmvc").read_bytes()
    r = _run("-", "--json", stdin=data)
    assert r.returncode == 0 and json.loads(r.stdout)["frames"] == 10


def test_probe_reports_a_damaged_segment_and_exits_non_zero():
    r = _run(str(VECTORS / "invalid" / "crc_mismatch.cmvc"))
    assert r.returncode == 3
    assert b"DAMAGED" in r.stdout and b"ChecksumError" in r.stdout
    assert b"#1" in r.stdout  # the rest still reads


def test_probe_bad_input_is_one_line_and_non_zero(tmp_path):
    for path in (tmp_path / "missing.cmvc", VECTORS / "invalid" / "bad_signature.cmvc",
                 VECTORS / "invalid" / "read_version_too_new.cmvc"):
        r = _run(str(path))
        assert r.returncode == 1
        assert r.stderr.decode().count("\n") == 1 and r.stderr.startswith(b"cmvc-probe: error:")
    r = _run(str(VECTORS / "invalid" / "bad_signature.cmvc"), "--debug")
    assert b"Traceback" in r.stderr


def test_probe_help():
    r = _run("--help")
    assert r.returncode == 0 and b"--json" in r.stdout
