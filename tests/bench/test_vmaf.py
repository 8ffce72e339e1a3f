from tests.bench.synth import make_testsrc
from tools.metrics.vmaf import vmaf


def test_clip_against_itself_scores_at_least_99(tmp_path):
    src = make_testsrc(tmp_path / "src.y4m", size="320x240", frames=8)
    r = vmaf(src, src, threads=2)
    assert r["vmaf_frames"] == 8
    assert r["vmaf"] >= 99.0, r


def test_compressed_clip_scores_lower(media):
    same = vmaf(media["src"], media["src"])["vmaf"]
    lossy = vmaf(media["src"], media["x264_crf35"])["vmaf"]
    assert lossy < same - 5, (lossy, same)
