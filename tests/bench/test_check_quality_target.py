"""tools/check_quality_target.py end to end on the bundled sample (8 frames,
blend in-betweens, so it runs in seconds): anchors, CMVC rates, every score."""
import json
from pathlib import Path

from tools import check_quality_target

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "person_walk_384x216.mp4"


def test_scores_anchors_and_cmvc_rates(tmp_path):
    out = tmp_path / "qt.json"
    assert check_quality_target.main([str(SAMPLE), "--max-frames", "8", "--generator", "blend",
                                      "--rates", "0.75,0.25", "--vmaf", "--x265",
                                      "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["rates"] == [0.75, 0.25] and doc["keyframe_codec"] == "av1-auto"
    (row,) = doc["clips"]
    assert row["frames"] == 8 and row["size"] == "384x216"
    svt = row["svtav1_crf63"]["kbps"]
    for name in ("svtav1_crf63", "x265_crf51", "cmvc_75pct", "cmvc_25pct"):
        r = row[name]
        assert r["kbps"] > 0 and r["bpp"] > 0
        assert 0 <= r["lpips"] < 1 and 10 < r["psnr"] < 60 and 0 <= r["vmaf"] <= 100
        assert r["encode_fps"] > 0 and r["decode_fps"] > 0
    assert abs(row["cmvc_75pct"]["target_kbps"] - 0.75 * svt) < 0.01
    for name in ("cmvc_75pct", "cmvc_25pct"):  # what the rate controller chose
        r = row[name]
        assert 2 <= r["keyframes"] <= 8 and 20 <= r["quality"] <= 63
        assert r["max_gap_seconds"] is None or r["max_gap_seconds"] > 0  # None: no limit
        assert r["keyframe_scale"] in (1.0, 0.5, 0.25)
        assert sum(r["keyframe_groups"].values()) == 1  # av1-auto's choice: av1 or av1-lr
    # the verdicts follow from the numbers beside them
    assert row["meets_target"] == (row["cmvc_75pct"]["kbps"] <= 0.75 * svt * 1.0001
                                   and row["cmvc_75pct"]["lpips"] <= row["svtav1_crf63"]["lpips"])
    assert row["reaches_quarter"] == (row["cmvc_25pct"]["kbps"] <= 0.25 * svt * 1.10)
    # a lower rate costs quality
    assert row["cmvc_25pct"]["kbps"] < row["cmvc_75pct"]["kbps"]
    assert row["cmvc_25pct"]["lpips"] > row["cmvc_75pct"]["lpips"]
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --replot redraws the plot from the JSON alone
    png.unlink()
    assert check_quality_target.main(["--replot", "--out", str(out)]) == 0
    assert png.stat().st_size > 1000


def test_keyframe_codec_reaches_the_mux(tmp_path):
    out = tmp_path / "qt.json"
    keep = tmp_path / "keep"
    assert check_quality_target.main([str(SAMPLE), "--max-frames", "8", "--generator", "blend",
                                      "--rates", "0.75", "--keyframe-codec", "av1-lr",
                                      "--keep", str(keep), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["keyframe_codec"] == "av1-lr"
    from cmvc_format import Codec, read_stream
    stream = read_stream(keep / "person_walk_384x216.cmvc_75pct.cmvc")
    assert {p.codec for seg in stream.segments for p in seg.payloads} == {Codec.AV1_LR}


def test_replot_without_results_is_an_error(tmp_path, capsys):
    try:
        check_quality_target.main(["--replot", "--out", str(tmp_path / "none.json")])
    except SystemExit as e:
        assert e.code == 2
    else:
        raise AssertionError("no error without a results file")
    assert "cannot read" in capsys.readouterr().err


def test_no_clips_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(check_quality_target, "ROOT", tmp_path / "repo")  # no ../shared beside it
    try:
        check_quality_target.main(["--out", str(tmp_path / "qt.json")])
    except SystemExit as e:
        assert e.code == 2
    else:
        raise AssertionError("no error without clips")
    assert "no clips given" in capsys.readouterr().err
    assert not (tmp_path / "qt.json").exists()


def test_gap_sweep_rows(tmp_path):
    out = tmp_path / "qt.json"
    assert check_quality_target.main([str(SAMPLE), "--max-frames", "8", "--generator", "blend",
                                      "--rates", "0.75", "--gaps", "0.04,1", "--out", str(out),
                                      "--keep", str(tmp_path / "kept")]) == 0
    doc = json.loads(out.read_text())
    assert doc["gaps"] == [0.04, 1.0]
    (row,) = doc["clips"]
    dense, sparse = row["cmvc_75pct_gap0.04"], row["cmvc_75pct_gap1"]
    # each row starts the controller's search at its gap (it may only double it)
    assert dense["max_gap_seconds"] >= 0.04 and sparse["max_gap_seconds"] in (1.0, None)
    assert dense["keyframes"] >= sparse["keyframes"]
    for r in (dense, sparse):
        assert r["kbps"] <= 1.10 * r["target_kbps"] and 0 <= r["lpips"] < 1
    # the verdict stays on the controller's own choice, not on a swept row
    assert row["meets_target"] == (row["cmvc_75pct"]["kbps"] <= 0.75 * row["svtav1_crf63"]["kbps"] * 1.0001
                                   and row["cmvc_75pct"]["lpips"] <= row["svtav1_crf63"]["lpips"])
    for r in (row["cmvc_75pct"], dense, sparse):  # with --gaps every CMVC row splits LPIPS
        assert 0 <= r["lpips_keyframes"] < 1 and 0 <= r["lpips_midpoint_estimate"] < 1
    assert out.with_suffix(".png").stat().st_size > 1000
    # --keep leaves every scored stream and its rate-control report
    for label in ("cmvc_75pct", "cmvc_75pct_gap0.04", "cmvc_75pct_gap1"):
        stem = tmp_path / "kept" / f"{SAMPLE.stem}.{label}"   # the label may hold a dot
        bits = Path(f"{stem}.cmvc").stat().st_size * 8 / (row["frames"] / row["fps"]) / 1000
        assert round(bits, 3) == row[label]["kbps"]
        assert json.loads(Path(f"{stem}.json").read_text())["keyframes"] == row[label]["keyframes"]


def test_bad_gaps_are_a_usage_error(tmp_path, capsys):
    for bad in ("0.2,x", "0"):
        try:
            check_quality_target.main([str(SAMPLE), "--gaps", bad, "--out", str(tmp_path / "qt.json")])
        except SystemExit as e:
            assert e.code == 2
        else:
            raise AssertionError(f"--gaps {bad} accepted")
        assert "--gaps" in capsys.readouterr().err
    assert not (tmp_path / "qt.json").exists()


def test_keyframe_split_weights_each_midpoint_by_its_gap(monkeypatch):
    """Keyframes 0, 3 | 4, 6 in two segments of 7 frames: gap (0, 3) has
    midpoint 1 standing for 2 frames, (4, 6) midpoint 5 standing for 1; the
    step from 3 to the next segment's first keyframe is no gap."""
    import cmvc_format
    import numpy as np
    import pytest

    monkeypatch.setattr(cmvc_format, "probe", lambda path: {
        "segments": [{"first_frame": 0, "frame_count": 4, "keyframes": [0, 3]},
                     {"first_frame": 4, "frame_count": 3, "keyframes": [0, 2]}]})
    ref = [np.zeros((2, 2, 3), np.uint8)] * 7
    dist = [np.full((2, 2, 3), 10 * i, np.uint8) for i in range(7)]

    def net(a, b):  # frame i scores i
        return (b - a).abs().mean(dim=(1, 2, 3)) * 25.5

    got = check_quality_target.keyframe_split("x.cmvc", ref, dist, net)
    assert got["lpips_keyframes"] == pytest.approx((0 + 3 + 4 + 6) / 4, abs=1e-4)
    assert got["lpips_midpoints"] == pytest.approx((1 + 5) / 2, abs=1e-4)
    assert got["lpips_midpoint_estimate"] == pytest.approx((0 + 3 + 4 + 6 + 2 * 1 + 1 * 5) / 7, abs=1e-4)


def test_keyframe_split_without_gaps(monkeypatch):
    """Every frame a keyframe: no midpoints, and the estimate is the keyframes' mean."""
    import cmvc_format
    import numpy as np
    import pytest

    monkeypatch.setattr(cmvc_format, "probe", lambda path: {
        "segments": [{"first_frame": 0, "frame_count": 3, "keyframes": [0, 1, 2]}]})
    ref = [np.zeros((2, 2, 3), np.uint8)] * 3
    dist = [np.full((2, 2, 3), 10 * i, np.uint8) for i in range(3)]
    got = check_quality_target.keyframe_split(
        "x.cmvc", ref, dist, lambda a, b: (b - a).abs().mean(dim=(1, 2, 3)) * 25.5)
    assert got["lpips_midpoints"] is None
    assert got["lpips_keyframes"] == got["lpips_midpoint_estimate"] == pytest.approx(1.0, abs=1e-4)


def test_decoded_y4m_is_read_in_the_sources_colours(tmp_path):
    # The bug this covers: a Y4M carries no matrix, so the BT.601 clip
    # one-by-one-person-detection was scored as if it were BT.709.
    import numpy as np
    from fractions import Fraction

    from ffmpeg_bridge.colors import ColorSpec
    from ffmpeg_bridge.video_io import read_video
    from ffmpeg_bridge.y4m import Y4MWriter

    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 60, 30  # saturated: the matrices differ most
    bt601 = ColorSpec(matrix=6, primaries=6, transfer=6, range=1)
    path = tmp_path / "d.y4m"
    with open(path, "wb") as fp:
        Y4MWriter(fp, 16, 16, Fraction(25), bt601).write(rgb)
    (back,) = check_quality_target.read_decoded(str(path), bt601)
    assert np.abs(back.astype(int) - rgb).max() <= 2
    (guessed,) = read_video(str(path)).frames  # what the tool used to read
    assert np.abs(guessed.astype(int) - rgb).max() > 5
