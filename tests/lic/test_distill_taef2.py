"""TAEF2-slim: the architecture at any width, cutting TAEF2 down to its busiest
channels (tools/distill_taef2.py), a short seeded distillation on made-up
data, and the shipped file the codec runs."""
import json

import numpy as np
import pytest
import torch

from cmvc_format.lic import taef2
from tests.lic.test_training import _made_up_cache
from tools import distill_taef2 as distill


def _random_teacher(seed=0):
    torch.manual_seed(seed)
    enc, dec = taef2.build_encoder().eval(), taef2.build_decoder().eval()
    return enc, dec


def test_cutting_to_all_channels_keeps_the_teacher_exactly():
    """With top = 64 the busiest 64 channels are all of them, in order: the
    student must be the teacher, layer for layer (checks the slicing)."""
    enc, dec = _random_teacher()
    x = torch.rand(2, 3, 64, 64)
    student = distill.cut_encoder(enc, 64, x)
    with torch.no_grad():
        torch.testing.assert_close(student(x), enc(x))
        lat = torch.randn(2, taef2.LATENT_CHANNELS, 4, 4)
        features = dec[:taef2.DECODER_TOP_START](lat)
        student = distill.cut_decoder(dec, 64, features)
        torch.testing.assert_close(student(lat), dec(lat))


def test_cut_keeps_the_busiest_channels_and_the_rest_of_the_teacher():
    enc, dec = _random_teacher(1)
    x = torch.rand(2, 3, 64, 64)
    student = distill.cut_encoder(enc, 16, x)
    assert student[0].weight.shape == (16, 3, 3, 3) and student[2].weight.shape == (64, 16, 3, 3)
    # the kept stream channels are the 16 with the largest mean |output| of the teacher's first block
    with torch.no_grad():
        activity = enc[:2](x).abs().mean(dim=(0, 2, 3))
    kept = torch.sort(torch.topk(activity, 16).indices).values
    torch.testing.assert_close(student[0].weight, enc[0].weight[kept])
    for i in range(3, len(enc)):  # everything below the full-resolution stage is the teacher's
        for (name, a), (_, b) in zip(student[i].state_dict().items(), enc[i].state_dict().items()):
            assert torch.equal(a, b), (i, name)
    cut = distill.cut_decoder(dec, 16, dec[:taef2.DECODER_TOP_START](torch.randn(1, 32, 4, 4)))
    assert cut[taef2.DECODER_TOP_START + 1].weight.shape == (16, 64, 3, 3)
    assert cut(torch.randn(1, 32, 3, 5)).shape == (1, 3, 24, 40)


def test_top_width_is_read_from_the_tensors():
    state = {f"encoder.{k}": v for k, v in taef2.build_encoder(24).state_dict().items()}
    state.update({f"decoder.{k}": v for k, v in taef2.build_decoder(40).state_dict().items()})
    assert taef2.top_width(state, "encoder.") == 24 and taef2.top_width(state, "decoder.") == 40


def test_distillation_is_seeded_and_exports_a_loadable_slim_file(tmp_path):
    """Two runs of a few steps on made-up pictures export the same bytes; the
    file loads as a 32-wide TAEF2 and its log records both halves."""
    from cmvc_format.lic.weights_file import load_taef2

    cache = _made_up_cache(tmp_path, 7, seed=3)
    names = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        assert distill.main(["--cache", str(cache), "--out", str(out), "--encoder-steps", "2",
                             "--decoder-steps", "2", "--log-every", "1", "--batch", "2"]) == 0
        names.append([p.name for p in out.glob("taef2s-????????.safetensors")])
    assert len(names[0]) == 1 and names[0] == names[1]
    path = tmp_path / "out0" / names[0][0]
    enc, dec = load_taef2(path)
    assert enc[0].weight.shape[0] == 32 and dec[taef2.DECODER_TOP_START + 1].weight.shape[0] == 32
    log = json.loads(path.with_suffix(".train.json").read_text())
    assert [h["step"] for h in log["encoder"]["history"]] == [0, 1, 2]
    assert {"latent_nmse"} <= set(log["encoder"]["history"][0])
    assert {"psnr_vs_teacher_latent", "psnr_vs_teacher_q0"} <= set(log["decoder"]["history"][-1])


def test_no_codec_validates_on_true_latents_only(tmp_path):
    cache = _made_up_cache(tmp_path, 6, seed=5)
    assert distill.main(["--cache", str(cache), "--out", str(tmp_path), "--encoder-steps", "0",
                         "--decoder-steps", "1", "--log-every", "1", "--batch", "1", "--no-codec"]) == 0
    (log,) = tmp_path.glob("taef2s-*.train.json")
    assert set(json.loads(log.read_text())["decoder"]["history"][-1]) == {"step", "seconds", "psnr_vs_teacher_latent"}


def test_the_codec_runs_the_shipped_slim_transform():
    from cmvc_format.lic.codec import load_codec

    codec = load_codec()
    names = dict(codec.models())
    assert any(n.startswith("taef2s-") for n in names), names
    assert codec.encoder[0].weight.shape[0] == 32
    assert codec.decoder[taef2.DECODER_TOP_START + 1].weight.shape[0] == 32
    rgb = np.random.default_rng(0).integers(0, 256, (40, 72, 3), dtype=np.uint8)
    assert codec.decode(codec.encode(rgb, 3)).shape == rgb.shape


@pytest.mark.parametrize("pictures,shape", [(True, (20, 30)), (False, (20, 30)), (False, (10, 12))])
def test_crops_are_aligned_and_full_size(pictures, shape):
    """(10, 12) latent samples is smaller than a crop: edges are replicated."""
    from tests.lic.test_training import _picture_and_latent

    lat, pic, _ = _picture_and_latent(*shape, seed=2)
    rng = np.random.default_rng(0)
    lats, pics = distill.crops([lat], [pic] if pictures else None, rng, 3)
    n = distill.CROP // taef2.STRIDE
    assert lats.shape == (3, taef2.LATENT_CHANNELS, n, n) and pics.shape == (3, 3, distill.CROP, distill.CROP)
    if pictures:  # latent sample = mean of the pixel block it covers (see _picture_and_latent)
        pooled = torch.nn.functional.avg_pool2d(pics * 255, taef2.STRIDE)
        torch.testing.assert_close(lats[:, 0], pooled[:, 0].half().float(), atol=0.5, rtol=0)
