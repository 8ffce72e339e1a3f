"""tools/restoration_keyframe_lpips.py on the bundled sample: keyframe LPIPS
without and with the av1-lr network, per crf, as a table and JSON."""
import json
from pathlib import Path

import pytest

from tools import restoration_keyframe_lpips as tool

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "person_walk_384x216.mp4"


def test_scores_keyframes_with_and_without_the_network(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert tool.main([str(SAMPLE), "--max-frames", "8", "--step", "4", "--crfs", "63,40",
                      "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["keyframes"] == 2 and doc["size"] == "384x216" and doc["weights"].startswith("av1lr-")
    low, high = doc["rows"]
    assert (low["crf"], high["crf"]) == (63, 40) and low["bytes"] < high["bytes"]
    for r in (low, high):
        assert 0 < r["lpips_av1"] < 1 and 0 < r["lpips_av1_lr"] < 1 and 0 <= r["keyframes_improved"] <= 2
    assert low["lpips_av1"] > high["lpips_av1"]  # coarser quantizer, worse pictures
    assert "LPIPS av1-lr" in capsys.readouterr().out


def test_refuses_bad_crfs():
    with pytest.raises(SystemExit) as exc:
        tool.main([str(SAMPLE), "--crfs", "high"])
    assert exc.value.code == 2


def test_refuses_a_step_of_zero():
    with pytest.raises(SystemExit) as exc:
        tool.main([str(SAMPLE), "--step", "0"])
    assert exc.value.code == 2
