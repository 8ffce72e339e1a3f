"""Command-line tools. Shared conventions (as ffmpeg's): one-line errors on
stderr and a non-zero exit for bad input, tracebacks only with --debug,
progress on stderr, `-` for stdout."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

EXIT_OK = 0
EXIT_ERROR = 1   # bad input, failed decode, unwritable output
EXIT_USAGE = 2   # argparse's own code for bad arguments
EXIT_DAMAGED = 3  # done, but damaged segments were reported (and concealed)


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def run(main: Callable[[argparse.Namespace], int], parser: argparse.ArgumentParser,
        argv: list[str] | None = None) -> int:
    """Parse arguments, run ``main`` and turn any failure into one line on stderr."""
    args = parser.parse_args(argv)
    try:
        return main(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not our error.
        try:
            sys.stdout = None  # silence the flush at exit
        except Exception:
            pass
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the CLI boundary: every failure is one line
        if getattr(args, "debug", False):
            raise
        print(f"{parser.prog}: error: {describe(exc)}", file=sys.stderr)
        return EXIT_ERROR


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    name = type(exc).__name__
    # One line, whatever the exception's message looks like (some carry a
    # multi-line how-to, e.g. missing weights): join it, do not cut it.
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or name
    return text if name == "CLIError" else f"{text} ({name})"


class CLIError(Exception):
    """A user-facing failure whose message says it all."""
