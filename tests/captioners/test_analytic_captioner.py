"""The analytic captioner says what it measures, and nothing else."""

import numpy as np
import pytest

from ffmpeg_bridge.captioners import AnalyticCaptioner, get_captioner


def test_red_image_mentions_red(solid):
    text = get_captioner().caption(solid((220, 20, 20)))
    assert "red" in text and "vivid" in text


def test_dark_image_is_dark(solid):
    text = get_captioner("analytic").caption(solid((12, 12, 16)))
    assert "dark" in text and "black" in text and "almost no colour" in text


def test_bright_white_and_blue(solid):
    assert "bright" in get_captioner().caption(solid((250, 250, 250)))
    half = solid((250, 250, 250))
    half[:, :, :32] = (30, 60, 210)
    text = get_captioner().caption(half)
    assert "white" in text and "blue" in text


def test_detail_level():
    flat = np.full((1, 72, 128, 3), 120, np.uint8)
    checker = ((np.indices((72, 128)).sum(0) // 4) % 2 * 200 + 20).astype(np.uint8)
    busy = np.repeat(checker[None, :, :, None], 3, axis=3)
    c = get_captioner()
    assert "little detail" in c.caption(flat)
    assert "much detail" in c.caption(busy)


def test_context_scene_cut_and_motion_caption(solid):
    text = get_captioner().caption(solid((40, 160, 60)),
                                   context={"motion_caption": "The camera pans left slowly",
                                            "scene_cut": True, "fps": 25.0, "segment_index": 3})
    assert "green" in text
    assert "scene cut" in text
    assert "the camera pans left slowly." in text
    # Short: one sentence of appearance, one of measured context.
    assert text.count(".") == 2


def test_change_across_keyframes(solid):
    same = solid((200, 200, 40), k=3)
    changing = np.concatenate([solid((200, 200, 40)), solid((20, 40, 160))])
    c = get_captioner()
    assert "stays the same" in c.caption(same)
    assert "changes substantially" in c.caption(changing)
    assert "changes" not in c.caption(same[:1]) and "same" not in c.caption(same[:1])


def test_deterministic_and_identified(solid):
    frames = np.random.default_rng(1).integers(0, 256, (2, 48, 80, 3), dtype=np.uint8)
    c = AnalyticCaptioner()
    assert c.caption(frames) == c.caption(frames.copy())
    assert c.sha256 is None and c.model_id and c.name == "analytic"


def test_bad_input(solid):
    c = get_captioner()
    with pytest.raises(ValueError, match="uint8"):
        c.caption(solid((1, 2, 3)).astype(np.float32))
    with pytest.raises(TypeError):
        c.caption(solid((1, 2, 3)), context={"motion_caption": 5})
    with pytest.raises(ValueError, match="unknown captioner"):
        get_captioner("gpt")
