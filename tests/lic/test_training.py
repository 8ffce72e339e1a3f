"""tools/train_keyframe_codec.py stage 2b: the crops it trains on and one
training step, on made-up data (no shared media, no TAEF2 encoder run)."""
import numpy as np
import pytest
import torch

from cmvc_format.lic import taef2
from cmvc_format.lic.transforms import CODE_STRIDE
from tools import train_keyframe_codec as training


def _picture_and_latent(h_lat, w_lat, seed):
    """A picture whose latent sample (c, y, x) is a function of the pixel block
    it covers, so an aligned crop pair can be recognised."""
    g = torch.Generator().manual_seed(seed)
    pic = torch.randint(0, 256, (3, h_lat * taef2.STRIDE, w_lat * taef2.STRIDE), generator=g, dtype=torch.uint8)
    block = torch.nn.functional.avg_pool2d(pic[None].float(), taef2.STRIDE)[0]
    lat = block.repeat(11, 1, 1)[:taef2.LATENT_CHANNELS]
    return lat.half(), pic, block


def _made_up_cache(tmp_path, photos: int, seed: int):
    """A training cache of `photos` made-up 64x96 photos (latents in about
    -1..1, as TAEF2's are), the last VALIDATION_PHOTOS of them held out."""
    names, lats, pics = [], [], []
    for i in range(photos):
        lat, pic, _ = _picture_and_latent(8, 12, seed=seed + i)
        names.append(f"photo:p{i}.png"), lats.append((lat / 128 - 1).half()), pics.append(pic)
    cache = tmp_path / "cache.pt"
    torch.save({"names": names, "latents": lats, "pictures": pics}, cache)
    return cache


@pytest.mark.parametrize("shape", [(40, 56), (20, 12)])  # the second is smaller than a crop
def test_pixel_crops_are_aligned_with_their_latents(shape):
    lat, pic, _ = _picture_and_latent(*shape, seed=1)
    rng = np.random.default_rng(0)
    lats, pics = training.pixel_batch([lat], [pic], rng, 6)
    n = training.PIXEL_CROP
    assert lats.shape == (6, taef2.LATENT_CHANNELS, n, n)
    assert pics.shape == (6, 3, n * taef2.STRIDE, n * taef2.STRIDE)
    h, w = min(shape[0], n), min(shape[1], n)  # beyond: edge replication, not block means
    for la, pi in zip(lats, pics):
        pooled = torch.nn.functional.avg_pool2d(pi[None] * 255, taef2.STRIDE)[0]
        # latent channels 0..2 hold the block means of R, G, B (float16-rounded);
        # a mirrored crop has its replicated edge on the left
        assert any(torch.allclose(la[:3, :h, cols], pooled[:, :h, cols], atol=0.25)
                   for cols in (slice(0, w), slice(n - w, n)))


def test_pixel_crop_offsets_follow_the_code_grid():
    lat, pic, _ = _picture_and_latent(40, 56, seed=2)
    lat = torch.zeros_like(lat)
    yy, xx = torch.meshgrid(torch.arange(40), torch.arange(56), indexing="ij")
    lat[0], lat[1] = yy.half(), xx.half()
    lats, _ = training.pixel_batch([lat], [pic], np.random.default_rng(3), 20)
    for la in lats:
        x0 = min(float(la[1, 0, 0]), float(la[1, 0, -1]))  # the crop may be mirrored
        assert float(la[0, 0, 0]) % CODE_STRIDE == 0 and x0 % CODE_STRIDE == 0


def test_one_pixel_step_moves_the_codec_towards_the_picture():
    """pixel_terms' distortion falls after a few steps on a single crop with
    a stand-in decoder; the rate term is finite and positive."""
    from cmvc_format.lic.transforms import LatentCodec

    torch.manual_seed(0)
    model = LatentCodec(n_quality=2, hidden=16, code=8, mixture=1)
    decoder = torch.nn.Sequential(torch.nn.Upsample(scale_factor=taef2.STRIDE),
                                  torch.nn.Conv2d(taef2.LATENT_CHANNELS, 3, 1))
    decoder.requires_grad_(False)

    class MeanFeatures(torch.nn.Module):  # a differentiable stand-in for LPIPS
        def features(self, x):
            return [x]

        def distance_from_features(self, a, b):
            return sum(((p - q) ** 2).mean(dim=(1, 2, 3)) for p, q in zip(a, b))

    lat, pic, _ = _picture_and_latent(16, 16, seed=4)
    lats, pics = training.pixel_batch([lat / 255], [pic], np.random.default_rng(0), 2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        bpp, mse, perceptual, out = training.pixel_terms(model, decoder, MeanFeatures(), lats, pics, 1, True)
        assert out.shape == pics.shape and float(bpp) > 0
        loss = bpp + 1000 * (mse + 0.01 * perceptual)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(mse))
    assert losses[-1] < 0.5 * losses[0]


def test_versus_anchor_reads_a_curve_at_half_the_rate_as_minus_50_percent():
    anchor = {"avif": [{"bpp": b, "psnr": 20 + 10 * b, "lpips": 0.8 - b} for b in (0.01, 0.02, 0.04, 0.08)]}
    ours = [{"quality": i, "bpp": r["bpp"] / 2, "psnr": r["psnr"], "lpips": r["lpips"]}
            for i, r in enumerate(anchor["avif"])]
    out = training.versus_anchor(anchor, ours)
    assert out["lpips_bd_rate_full"] == pytest.approx(-50.0, abs=0.5)
    assert out["lpips_bd_rate_le_0.05"] == pytest.approx(-50.0, abs=0.5)
    assert out["psnr_gap_db"] > 0  # same PSNR at half the bits: above the anchor


def test_init_runs_stage_2b_and_writes_weights_log_and_checkpoints(tmp_path):
    """--init skips stage 2; --anchor and --checkpoints leave their traces in
    the log and the folder. Made-up latents and pictures; the shipped weights."""
    import json

    from cmvc_format.lic.weights_file import find_weights, load_codec_weights

    cache = _made_up_cache(tmp_path, training.VALIDATION_PHOTOS + 1, seed=10)
    anchor = tmp_path / "anchor.json"
    anchor.write_text(json.dumps({"means": {"avif": [
        {"bpp": b, "psnr": 10 + 20 * b, "lpips": 1 - b} for b in (0.01, 0.05, 0.2, 0.4)]}}))
    init = find_weights("lic")
    out = tmp_path / "out"
    assert training.main(["--cache", str(cache), "--init", str(init), "--pixel-steps", "2",
                          "--pixel-log-every", "2", "--pixel-batch", "1", "--anchor", str(anchor),
                          "--checkpoints", str(tmp_path / "ckpt"), "--out", str(out)]) == 0
    weights = list(out.glob("lic-????????.safetensors"))
    assert len(weights) == 1
    load_codec_weights(weights[0])  # loads and passes its hash check
    log = json.loads((out / (weights[0].stem + ".train.json")).read_text())
    assert log["init"]["file"] == init.name and "history" not in log
    assert [h["step"] for h in log["pixels"]["history"]] == [0, 2]
    assert all("vs_anchor" in h for h in log["pixels"]["history"])
    assert sorted(f.name for f in (tmp_path / "ckpt").iterdir()) == ["pixels-0.pt", "pixels-2.pt"]


def test_stage_2b_is_reproducible_and_validation_does_not_steer_it(tmp_path):
    """The issue asks for seeded, reproducible training: two runs with the same
    seed export the same weights (same hash in the file name), whether or not
    they stop to validate in between."""
    from cmvc_format.lic.weights_file import find_weights

    cache = _made_up_cache(tmp_path, training.VALIDATION_PHOTOS + 2, seed=30)
    exported = []
    for run, every in enumerate(("1", "3")):
        out = tmp_path / f"out{run}"
        assert training.main(["--cache", str(cache), "--init", str(find_weights("lic")), "--pixel-steps", "3",
                              "--pixel-log-every", every, "--pixel-batch", "2", "--out", str(out)]) == 0
        exported.append([p.name for p in out.glob("lic-????????.safetensors")])
    assert len(exported[0]) == 1 and exported[0] == exported[1]


def test_transform_option_pins_the_given_autoencoder(tmp_path):
    """--pixel-steps 0 re-exports the same tensors, pinned to --transform."""
    from safetensors import safe_open

    from cmvc_format.lic.weights_file import find_weights, load_codec_weights, sha256_file

    cache = _made_up_cache(tmp_path, training.VALIDATION_PHOTOS + 1, seed=50)
    teacher = find_weights("taef2")
    out = tmp_path / "out"
    assert training.main(["--cache", str(cache), "--init", str(find_weights("lic")), "--pixel-steps", "0",
                          "--transform", str(teacher), "--out", str(out)]) == 0
    (path,) = out.glob("lic-????????.safetensors")
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["taef2_sha256"] == sha256_file(teacher)
    shipped, repinned = load_codec_weights()[0], load_codec_weights(path)[0]
    for (k, a), (_, b) in zip(shipped.state_dict().items(), repinned.state_dict().items()):
        assert torch.equal(a, b), k
