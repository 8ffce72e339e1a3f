"""Run one command as a child process and measure it: wall time, CPU time, peak RSS.

The command is started by tools/bench/spawn.py, a minimal launcher that forks and
execs it and reads the child's own rusage with os.wait4 (see spawn.py for why the
harness cannot fork it directly).  The peak RSS is that of the command (including
any children it waited for), not of the harness or of an earlier command.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SPAWN = Path(__file__).with_name("spawn.py")


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int
    stderr_tail: str


def run_measured(argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None, timeout_s: float | None = None) -> Measurement:
    log_path = Path(log_path)
    result = log_path.with_suffix(".rusage.json")
    result.unlink(missing_ok=True)
    full_env = {**os.environ, **(env or {})}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-S", str(SPAWN), str(result), *argv],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=full_env, cwd=cwd, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command share its session
            proc.wait()
            return Measurement(float(timeout_s or 0), 0.0, 0.0, -9, f"killed after {timeout_s} s")
    tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace").strip()
    if not result.is_file():
        return Measurement(0.0, 0.0, 0.0, proc.returncode or 1, tail or "launcher failed")
    r = json.loads(result.read_text())
    return Measurement(wall_s=r["wall_s"], cpu_s=r["cpu_s"], peak_rss_mib=r["maxrss_kib"] / 1024.0,
                       returncode=r["exit"], stderr_tail=tail)
