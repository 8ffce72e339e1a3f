import sys

from tools.bench.measure import run_measured


def test_peak_rss_is_the_childs_own(tmp_path):
    # The harness holds far more than 50 MiB (numpy/torch imported by other tests);
    # a trivial child must still report its own small footprint.
    small = run_measured([sys.executable, "-S", "-c", "pass"], tmp_path / "a.log")
    big = run_measured([sys.executable, "-S", "-c", "b = bytearray(300 * 2**20)"], tmp_path / "b.log")
    assert small.returncode == 0 and big.returncode == 0
    assert small.peak_rss_mib < 50
    assert 290 < big.peak_rss_mib < 400
    assert big.wall_s > 0 and big.cpu_s > 0


def test_failures_and_timeouts_are_reported(tmp_path):
    missing = run_measured(["/nonexistent/encoder"], tmp_path / "c.log")
    assert missing.returncode == 127 and "cannot start" in missing.stderr_tail
    slow = run_measured([sys.executable, "-S", "-c", "import time; time.sleep(30)"], tmp_path / "d.log",
                        timeout_s=0.5)
    assert slow.returncode != 0 and "killed" in slow.stderr_tail
