"""IT2V decoding (spec 7): every frame between two consecutive keyframes is
the interpolator's, across segment boundaries too."""
import numpy as np

from ffmpeg_bridge import encoder
from ffmpeg_bridge.decoder import decode, decode_keyframes
from ffmpeg_bridge.generators import get_generator
from ffmpeg_bridge.video_io import read_video
from tests.e2e.helpers import SAMPLE


def test_frames_after_a_segments_last_keyframe_lead_to_the_next_segment():
    # The decoder used to hold the last keyframe of a segment until the next
    # segment started: a freeze at every boundary that is not a keyframe,
    # which the encoder's spacing estimate did not see (stop 15).
    clip = read_video(SAMPLE, max_frames=30)
    opts = encoder.EncodeOptions(generator="blend", strategy="uniform", interval=4,
                                 max_gap_seconds=None, segment_seconds=1.0)
    stream, _ = encoder.encode(clip, opts)
    keyframes = decode_keyframes(stream)
    _, frames = decode(stream, generator="blend")
    frames = list(frames)
    assert len(frames) == 30
    blend = get_generator("blend")
    across = 0
    for (a, img_a), (b, img_b) in zip(keyframes, keyframes[1:]):
        across += b % 10 == 0 and b - a > 1  # segments are 10 frames long
        expected = blend.interpolate(img_a, img_b, b - a - 1)
        for k, want in enumerate(expected, start=a + 1):
            assert np.array_equal(frames[k], want), f"frame {k} (between keyframes {a} and {b})"
    assert across >= 2  # gaps that run into the next segment's first keyframe
