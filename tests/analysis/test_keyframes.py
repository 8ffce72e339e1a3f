"""Keyframe selection and scene cuts on numpy-made clips; the CLIP extractor
with a tiny randomly initialised model saved to a local folder."""

import json

import numpy as np
import pytest

from ffmpeg_bridge.analysis.features import (AnalyticFeatures, WeightsUnavailableError,
                                             get_feature_extractor, hf_weights_sha256)
from ffmpeg_bridge.analysis.keyframes import (cosine_distance, detect_scene_cuts, find_keyframes,
                                              select_keyframes)

H, W = 72, 128


def scene(seed: int, h: int = H, w: int = W * 3) -> np.ndarray:
    """A deterministic coloured texture with structure at several scales."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3))
    for s in (4, 16, 48):
        coarse = rng.normal(size=(h // s + 1, w // s + 1, 3))
        img += np.sqrt(s) * np.kron(coarse, np.ones((s, s, 1)))[:h, :w]
    img = (img - img.mean((0, 1))) / img.std() * 40 + rng.uniform(60, 190, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def cut_clip():
    """20 frames of one static scene, then 20 of another (cut at 20), with sensor noise."""
    a, b = scene(1)[:, :W], scene(2)[:, :W]
    clip = np.stack([a] * 20 + [b] * 20).astype(np.float32)
    clip += np.random.default_rng(3).normal(0, 6, clip.shape)
    return np.clip(clip, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def pan_clip():
    """A slow pan: 60 frames, 3 pixels per frame to the left."""
    a = scene(1)
    return np.stack([a[:, 3 * i:3 * i + W] for i in range(60)])


@pytest.fixture(scope="module")
def noise_clip():
    return np.random.default_rng(7).integers(0, 256, (24, H, W, 3), dtype=np.uint8)


def test_analytic_features_shape_norm_determinism(cut_clip):
    ext = AnalyticFeatures()
    f = ext(cut_clip[:5])
    assert f.dtype == np.float32 and f.shape[0] == 5 and f.ndim == 2
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(f, ext(cut_clip[:5]))
    assert ext.sha256 is None and ext.model_id
    # Any size works, including frames smaller than the 16x16 thumbnail.
    assert ext(np.zeros((2, 1, 3, 3), np.uint8)).shape == (2, f.shape[1])


def test_flat_frames_are_alike_and_brightness_counts():
    grey = np.full((3, 20, 30, 3), 128, np.uint8)
    grey[2] = 30
    f = AnalyticFeatures()(grey)
    assert cosine_distance(f[0], f[1]) < 1e-6
    assert cosine_distance(f[0], f[2]) > 0.1


def test_cut_detected_at_the_right_index(cut_clip):
    f = AnalyticFeatures()(cut_clip)
    assert detect_scene_cuts(f) == {20}
    kf = find_keyframes(cut_clip)
    assert kf.indices == [0, 19, 20, 39]  # 19 closes the first scene: no segment spans the cut
    assert kf.scene_cut == [False, False, True, False]
    # The same from precomputed features.
    assert select_keyframes(f) == kf.indices


def test_slow_pan_is_drift_not_cuts(pan_clip):
    f = AnalyticFeatures()(pan_clip)
    assert detect_scene_cuts(f) == set()
    kf = select_keyframes(f)
    assert kf[0] == 0 and kf[-1] == 59
    # The pan accumulates: new keyframes appear, but not every frame.
    assert 3 <= len(kf) <= 30


def test_noise_is_not_a_string_of_cuts(noise_clip):
    f = AnalyticFeatures()(noise_clip)
    assert detect_scene_cuts(f) == set()


def test_static_noisy_scene_needs_only_first_and_last(cut_clip):
    assert select_keyframes(cut_clip[:20]) == [0, 19]


def test_person_entering_a_static_view_gets_a_keyframe():
    """Real footage: a person walks into an office corner (samples/README.md)."""
    av = pytest.importorskip("av")
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "samples" / "person_walk_384x216.mp4"
    if not path.is_file():
        pytest.skip("samples/person_walk_384x216.mp4 is not there")
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    kf = find_keyframes(frames)
    assert kf.indices[0] == 0 and kf.indices[-1] == len(frames) - 1
    assert any(5 <= i <= 20 for i in kf.indices)  # once the person is in the picture
    assert not any(kf.scene_cut)


def test_min_and_max_gap(pan_clip, noise_clip):
    for clip in (pan_clip, noise_clip):
        f = AnalyticFeatures()(clip)
        kf = select_keyframes(f, min_gap=6)
        gaps = np.diff(kf)
        assert kf[0] == 0 and kf[-1] == len(clip) - 1
        assert (gaps[:-1] >= 6).all()  # the last frame is a keyframe whatever the gap
    static = np.repeat(pan_clip[:1], 30, axis=0)
    kf = select_keyframes(static, max_gap=7)
    assert kf == [0, 7, 14, 21, 28, 29]


def test_cut_overrides_min_gap_unless_told_not_to(cut_clip):
    f = AnalyticFeatures()(cut_clip)
    assert 20 in select_keyframes(f, min_gap=30)
    assert select_keyframes(f, min_gap=30, keep_cuts=False) == [0, 30, 39]


def test_uniform_strategy(cut_clip):
    kf = find_keyframes(cut_clip, "uniform", interval=8)
    assert kf.indices == [0, 8, 16, 24, 32, 39]
    assert not any(kf.scene_cut)
    with pytest.raises(ValueError, match="interval"):
        select_keyframes(cut_clip, "uniform")


def test_mse_strategy(cut_clip):
    assert select_keyframes(cut_clip, "mse") == [0, 20, 39]
    assert select_keyframes(cut_clip, "mse", threshold=1e9) == [0, 39]
    # Noise sigma 6 gives MSE ~72 between any two frames: a low threshold fires everywhere.
    assert select_keyframes(cut_clip[:10], "mse", threshold=10) == list(range(10))
    with pytest.raises(ValueError, match="pixels"):
        select_keyframes(AnalyticFeatures()(cut_clip), "mse")


def test_edge_cases(cut_clip):
    assert select_keyframes(cut_clip[:1]) == [0]
    assert select_keyframes(cut_clip[:2]) == [0, 1]
    assert select_keyframes(cut_clip[0]) == [0]  # one (H, W, 3) frame
    assert find_keyframes(cut_clip[:1], "mse").scene_cut == [False]
    with pytest.raises(ValueError):
        select_keyframes(cut_clip, "bogus")
    with pytest.raises(ValueError, match="max_gap"):
        select_keyframes(cut_clip, min_gap=5, max_gap=2)
    with pytest.raises(ValueError, match="uint8"):
        select_keyframes(cut_clip.astype(np.float32))


# --- CLIP from a local folder ---------------------------------------------------

@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import torch

    folder = tmp_path_factory.mktemp("tiny-clip")
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                           num_attention_heads=2, image_size=32, patch_size=8,
                                           projection_dim=24)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(folder)
    processor = transformers.CLIPImageProcessor(size={"shortest_edge": 32},
                                               crop_size={"height": 32, "width": 32})
    processor.save_pretrained(folder)
    return folder


def test_clip_features_from_local_folder(tiny_clip_dir, cut_clip):
    ext = get_feature_extractor(f"clip:{tiny_clip_dir}")
    f = ext(cut_clip[15:25])
    assert f.shape == (10, 24) and f.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(f, ext(cut_clip[15:25]))
    assert ext.sha256 == hf_weights_sha256(tiny_clip_dir) and len(ext.sha256) == 64
    assert ext.model_id == f"clip-vision:{tiny_clip_dir.name}"
    assert json.loads((tiny_clip_dir / "config.json").read_text())["projection_dim"] == 24
    # Selection runs on its features (random weights: only the contract is checked).
    kf = select_keyframes(f)
    assert kf[0] == 0 and kf[-1] == 9


def test_clip_missing_folder_says_how_to_provide_one(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="save_pretrained") as e:
        get_feature_extractor(f"clip:{tmp_path / 'nowhere'}")
    assert "does not exist" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsUnavailableError, match="lacks config.json or weight files"):
        get_feature_extractor(f"clip:{tmp_path / 'empty'}")
    with pytest.raises(ValueError, match="analytic"):
        get_feature_extractor("sift")
