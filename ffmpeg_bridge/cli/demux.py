"""cmvc-demux: copy the CMVC stream out of an MKV written by cmvc-mux."""
from __future__ import annotations

import argparse
import sys

from . import CLIError, add_common, run
from .io import check_output_path, write_bytes


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cmvc-demux",
                                description="Extract the bare CMVC stream (the application/x-cmvc "
                                            "attachment) from an MKV.")
    p.add_argument("input", help="input .mkv")
    p.add_argument("output", help="output .cmvc, or - for stdout")
    add_common(p)
    return p


def main_args(a: argparse.Namespace) -> int:
    from ..mkv import MKVError, read_cmvc_attachment
    check_output_path(a.input, a.output)
    try:
        data = read_cmvc_attachment(a.input)
    except MKVError as exc:
        raise CLIError(str(exc)) from None
    write_bytes(data, a.output)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(main_args, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
