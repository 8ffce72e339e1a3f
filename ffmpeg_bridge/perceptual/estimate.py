"""How a candidate stream will look, estimated before anyone decodes it whole.

The rate controller has several keyframe spacings that fit the rate and must
pick one.  Comparing the keyframe codec's quantizers does not tell which
decodes better: the codec codes the same crf differently for a different
number of keyframes, and the frames between keyframes are the generator's,
not the codec's.  So it measures: decode the candidate's keyframes, make the
middle frame of each gap with the stream's own generator, and take LPIPS
(AlexNet) of those against the source.  Each keyframe stands for itself and
each midpoint for every in-between frame of its gap, so the weighted mean
estimates the clip's mean LPIPS from one generated frame per gap.  On the
fifteen clips of ../shared/media/video (issue 3, fifth session) this estimate
ranked the spacings as the full decode did: its choice was the best spacing on
11 clips and within 0.0025 LPIPS of it on the other 4 (measured with a decoder
that still held the frames after a segment's last keyframe).  A gap across a
segment boundary is scored like any other, because the decoder generates it
towards the next segment's first keyframe (spec 7).

The choice decides the stream's bytes, so it must not depend on the machine's
thread count: torch runs single-threaded here (a different number of threads
changed a few pixels of a RIFE frame), and scores are rounded before they are
compared.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..decoder import decode_keyframes, motion_steps
from .images import one_thread, rgb_to_tensor
from .lpips import LPIPS

#: At most this many gaps are scored per candidate (evenly spread over the
#: clip), so a long clip costs no more than a short one.
MAX_GAPS = 32
#: The source frames' LPIPS features are kept for the next candidate (the
#: same frames come back as keyframes and midpoints) up to this many bytes;
#: AlexNet's features of a 1280x720 frame take about 30 MB.
REF_CACHE_BYTES = 1 << 30
#: Scores are compared at this many decimals (LPIPS differences that matter
#: are around 1e-3).
DECIMALS = 5


@dataclass
class Estimate:
    lpips: float          # the weighted mean, rounded to DECIMALS
    gaps: int             # gaps scored
    midpoints: int        # generated frames scored


class MidpointEstimator:
    """Scores streams of one clip: ``estimator(stream_bytes) -> Estimate``.

    frames: the source frames (RGB uint8); motion: frame index -> the MOTN
    record the decoder will see (spec 5.4 units), for generators that pre-align;
    cuts: frames that start a scene (the decoder holds, not interpolates, into
    them); generator: the stream's interpolator.
    """

    def __init__(self, frames, motion: dict[int, tuple], cuts: set[int], generator,
                 max_gaps: int = MAX_GAPS):
        self.frames, self.motion, self.cuts = frames, motion, set(cuts)
        self.generator, self.max_gaps = generator, max_gaps
        with one_thread():
            self.net = LPIPS("alex")
        self._ref: dict[int, list[torch.Tensor]] = {}
        self._ref_bytes = 0

    def _score(self, f: int, img: np.ndarray) -> float:
        """LPIPS of img against source frame f (the same numbers as
        ``LPIPS.compare``, which also takes the two frames one at a time)."""
        ref = self._ref.get(f)
        if ref is None:
            ref = self.net.features(rgb_to_tensor(self.frames[f]))
            size = sum(t.numel() * t.element_size() for t in ref)
            if self._ref_bytes + size <= REF_CACHE_BYTES:
                self._ref[f], self._ref_bytes = ref, self._ref_bytes + size
        return float(self.net.distance_from_features(ref, self.net.features(rgb_to_tensor(img)))[0])

    def _pairs(self, keyframes: list[tuple[int, np.ndarray]]):
        pairs = list(zip(keyframes, keyframes[1:]))
        if len(pairs) > self.max_gaps:
            picks = np.unique(np.linspace(0, len(pairs) - 1, self.max_gaps).round().astype(int))
            pairs = [pairs[i] for i in picks]
        return pairs

    def __call__(self, stream: bytes) -> Estimate:
        keyframes = decode_keyframes(stream)
        with one_thread(), torch.inference_mode():
            if len(keyframes) == 1:
                (f, img), = keyframes
                score = self._score(f, img)
                return Estimate(round(float(score), DECIMALS), 0, 0)
            scores, weights, mids = [], [], 0
            pairs = self._pairs(keyframes)
            for (a, img_a), (b, img_b) in pairs:
                scores.append(self._score(a, img_a))
                weights.append(1)
                n_between = b - a - 1
                if n_between < 1:
                    continue
                m = a + (b - a) // 2
                if b in self.cuts:  # the decoder holds the old scene's last keyframe
                    mid = img_a
                else:
                    mid = self.generator.frame_at(img_a, img_b, n_between, m - a,
                                                  motion=motion_steps(self.motion, a, b))
                    mids += 1
                scores.append(self._score(m, mid))
                weights.append(n_between)
        value = float(np.average(np.asarray(scores, dtype=np.float64), weights=weights))
        return Estimate(round(value, DECIMALS), len(pairs), mids)
