"""Fixtures for the benchmark/metric tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tools` and `tests` importable however pytest is started
    sys.path.insert(0, str(REPO))

from tests.bench.synth import make_testsrc, x264_roundtrip  # noqa: E402


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    src = make_testsrc(d / "src.y4m")
    return {"src": src, "x264_crf35": x264_roundtrip(src, d / "dist35.y4m", 35)}
