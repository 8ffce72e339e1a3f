"""tools/train_restoration.py on made-up photos: the crops it trains on, and
a seeded run exporting the same weights twice, loadable by the codec."""
import json

import numpy as np
import torch
from PIL import Image

from cmvc_format.restoration.model import RestorationModel
from tools import train_restoration as training


def _photos(root, n, h=48, w=64):
    d = root / "media/images/train"
    d.mkdir(parents=True)
    (root / "media/video").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        y, x = np.mgrid[0:h, 0:w]
        rgb = np.stack([x * 4 + i * 20, y * 5, (x * y) % 256], -1) + rng.integers(0, 30, (h, w, 3))
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(d / f"p{i}.png")
    return root


def test_crops_pair_the_decoded_picture_with_its_original():
    ref = torch.arange(3 * 40 * 60, dtype=torch.int32).reshape(3, 40, 60).remainder(251).to(torch.uint8)
    data = {"crfs": [63, 50], "pictures": [ref], "decoded": {63: [ref], 50: [ref]}}
    x, y = training.batch(data, [0], np.random.default_rng(1), 5, 16)
    assert x.shape == y.shape == (5, 3, 16, 16)
    assert torch.equal(x, y)  # same positions in both (decoded == original here)
    full = ref.float() / 255
    for crop in x:  # every crop is a (possibly mirrored) window of the picture at even offsets
        hits = [(r, c) for r in range(0, 25, 2) for c in range(0, 45, 2)
                if torch.equal(full[:, r:r + 16, c:c + 16], crop)
                or torch.equal(full[:, r:r + 16, c:c + 16].flip(2), crop)]
        assert hits


def test_seeded_training_exports_the_same_loadable_weights(tmp_path):
    shared = _photos(tmp_path / "shared", 7)
    argv = ["--shared", str(shared), "--cache", str(tmp_path / "cache.pt"), "--steps", "3", "--batch", "2",
            "--crop", "32", "--crfs", "63,50", "--channels", "8", "--blocks", "1"]
    assert training.main(argv + ["--out", str(tmp_path / "a")]) == 0
    assert training.main(argv + ["--out", str(tmp_path / "b")]) == 0  # second run: from the cache
    (a,), (b,) = (sorted((tmp_path / d).glob("av1lr-*.safetensors")) for d in "ab")
    assert a.name == b.name and a.read_bytes() == b.read_bytes()
    log = json.loads(a.with_suffix(".train.json").read_text())
    assert [row["crf"] for row in log["validation"]] == [63, 50]
    assert log["held_out"] == [f"photo:p{i}.png" for i in range(2, 7)]
    low, high = log["validation"]
    assert low["bpp"] < high["bpp"] and low["psnr_av1"] < high["psnr_av1"]
    model = RestorationModel(a, precision="fp32")
    assert model.network.config() == {"channels": 8, "blocks": 1}
    assert model.restore(np.zeros((10, 12, 3), np.uint8)).shape == (10, 12, 3)


def test_crop_larger_than_every_picture_is_refused(tmp_path):
    import pytest

    shared = _photos(tmp_path / "shared", 7)
    with pytest.raises(SystemExit, match="no training picture holds a 64 px crop"):
        training.main(["--shared", str(shared), "--cache", str(tmp_path / "c.pt"), "--steps", "1",
                       "--crop", "64", "--crfs", "63", "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()
