"""Tiny launcher that runs one command and reports its wall time, CPU time and peak RSS.

Run as `python -S spawn.py RESULT_JSON CMD...` (no imports beyond the standard library).

Why a launcher: Linux carries the pre-exec memory of a forked process into the
child's ru_maxrss, so a command forked straight from the harness (hundreds of MiB
of torch) would report at least the harness's RSS.  Forked from this small process,
the floor is this interpreter's RSS (~10 MiB), stated in the results.
"""
import json
import os
import sys
import time


def main() -> int:
    result_path, argv = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            sys.stderr.write(f"cannot start {argv[0]}: {exc}\n")
        os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    with open(result_path, "w") as f:
        json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                   "maxrss_kib": usage.ru_maxrss, "exit": os.waitstatus_to_exitcode(status)}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
