"""The transformers captioner, with a tiny random BLIP saved to a local folder:
the real loading and generation code runs; the words are gibberish."""

import numpy as np
import pytest

from ffmpeg_bridge.analysis.features import hf_weights_sha256
from ffmpeg_bridge.captioners import get_captioner
from ffmpeg_bridge.weights import WeightsUnavailableError


def test_tiny_blip_captions_deterministically(tiny_blip_dir, solid):
    c = get_captioner(f"hf:{tiny_blip_dir}", max_new_tokens=8)
    frames = np.concatenate([solid((200, 30, 30)), solid((30, 30, 200)), solid((30, 200, 30))])
    text = c.caption(frames)
    assert isinstance(text, str) and text.strip()
    assert c.caption(frames) == text
    # A fresh load gives the same words too.
    assert get_captioner(f"hf:{tiny_blip_dir}", max_new_tokens=8).caption(frames) == text
    assert c.sha256 == hf_weights_sha256(tiny_blip_dir) and len(c.sha256) == 64
    assert c.model_id == f"hf:{tiny_blip_dir.name}"
    # At most max_new_tokens words from a one-word-per-token vocabulary.
    assert len(text.rstrip(".").split()) <= 8


def test_context_is_appended(tiny_blip_dir, solid):
    c = get_captioner(f"hf:{tiny_blip_dir}", max_new_tokens=4)
    text = c.caption(solid((90, 90, 90)), context={"motion_caption": "the camera is static"})
    assert text.endswith("The camera is static.")


def test_missing_folder_says_how_to_provide_a_model(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="does not exist") as e:
        get_captioner(f"hf:{tmp_path / 'nowhere'}")
    assert "save_pretrained" in str(e.value) and "config.json" in str(e.value)
    with pytest.raises(WeightsUnavailableError, match="needs a model folder"):
        get_captioner("hf:")


def test_missing_weights(tiny_blip_dir, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("config.json", "vocab.txt"):
        (partial / name).write_bytes((tiny_blip_dir / name).read_bytes())
    with pytest.raises(WeightsUnavailableError, match="lacks config.json or weight files"):
        get_captioner(f"hf:{partial}")


def test_missing_processor(tiny_blip_dir, tmp_path):
    weights_only = tmp_path / "weights-only"
    weights_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        (weights_only / name).write_bytes((tiny_blip_dir / name).read_bytes())
    with pytest.raises(WeightsUnavailableError, match="cannot load the processor"):
        get_captioner(f"hf:{weights_only}")
