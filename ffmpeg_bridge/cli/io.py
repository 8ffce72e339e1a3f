"""Output helpers shared by the CLIs: '-' for stdout, no partial files."""
from __future__ import annotations

import os
import sys


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(inp: str, out: str) -> None:
    from . import CLIError
    if out == "-":
        return
    if inp != "-" and same_file(inp, out):
        raise CLIError(f"{out}: output would overwrite the input")
    d = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(d):
        raise CLIError(f"{out}: directory {d} does not exist")
    if not os.access(d, os.W_OK):
        raise CLIError(f"{out}: directory {d} is not writable")
    if os.path.isdir(out):
        raise CLIError(f"{out}: is a directory")


def write_bytes(data: bytes, out: str) -> None:
    """Write to stdout, or to a temporary file renamed into place."""
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    d, b = os.path.split(os.path.abspath(out))
    tmp = os.path.join(d, f".{b}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fp:
            fp.write(data)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
