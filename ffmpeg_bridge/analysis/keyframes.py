"""Keyframe selection and scene-cut detection (the encoder's segmentation).

``similarity`` is the paper's rule: walk the frames and compare each frame's
feature vector with that of the *last keyframe*; when the cosine distance
(1 - cos) exceeds a threshold the frame becomes a keyframe.  Comparing with
the last keyframe rather than the previous frame is what lets slow drift
(a pan) accumulate until the picture has changed enough to need a new
anchor.  ``uniform`` (every ``interval`` frames) and ``mse`` (pixel mean
squared error against the last keyframe) are the paper's ablation baselines.

The first and the last frame are always keyframes.  Everything is
deterministic: the same frames give the same keyframes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FeatureExtractor, check_frames, get_feature_extractor

__all__ = [
    "DEFAULT_THRESHOLD", "DEFAULT_MSE_THRESHOLD", "Keyframes",
    "cosine_distance", "detect_scene_cuts", "find_keyframes", "select_keyframes",
]

#: Cosine distance to the last keyframe that starts a new one, calibrated for
#: the analytic features.  On samples/person_walk_384x216.mp4 (a person walks
#: into a static office view) the distance to frame 0 settles near 0.05 once
#: the person is in, so a keyframe lands there; a hard cut gives 0.3-0.8;
#: sensor noise (sigma 8) stays below 0.001; a pan over fine synthetic texture
#: reaches it after moving about 5 % of the width.  CLIP embeddings sit on a
#: different scale: pass ``threshold`` explicitly for them.
DEFAULT_THRESHOLD = 0.05
#: Mean squared error (uint8 units, averaged over the three channels) to the
#: last keyframe that starts a new one with strategy "mse": about 25 dB PSNR.
DEFAULT_MSE_THRESHOLD = 200.0

STRATEGIES = ("similarity", "uniform", "mse")


@dataclass(frozen=True)
class Keyframes:
    """Selected keyframes, strictly increasing, and for each one whether it
    is the first frame after a scene cut (SEGM flag bit 0, spec 5.1)."""

    indices: list[int]
    scene_cut: list[bool]


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - cos between rows of ``a`` and ``b`` (broadcast); 0 for identical
    directions, 1 for orthogonal ones.  A zero vector is at distance 1."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(na * nb, 1e-12)
    return 1.0 - np.clip(cos, -1.0, 1.0)


def detect_scene_cuts(features: np.ndarray, *, min_distance: float = 0.15, ratio: float = 4.0,
                      window: int = 8) -> set[int]:
    """Frames that start a new scene: index i when frame i differs suddenly
    from frame i - 1.

    A cut is a jump, not a drift, so the consecutive-frame distance d[i] must
    both exceed ``min_distance`` and be ``ratio`` times the median of the
    other consecutive distances within ``window`` frames on either side.  The
    second test keeps fast but steady change (a whip pan, noise) from being
    read as a string of cuts.  Frame 0 is never a cut.
    """
    f = _check_features(features)
    n = len(f)
    if n < 2:
        return set()
    d = np.concatenate([[0.0], cosine_distance(f[1:], f[:-1])])
    cuts = set()
    for i in range(1, n):
        if d[i] < min_distance:
            continue
        neighbours = np.concatenate([d[max(1, i - window):i], d[i + 1:i + 1 + window]])
        baseline = float(np.median(neighbours)) if neighbours.size else 0.0
        if d[i] >= ratio * baseline:
            cuts.add(i)
    return cuts


def find_keyframes(frames_or_features: np.ndarray, strategy: str = "similarity", *,
                   threshold: float | None = None, min_gap: int = 1, max_gap: int | None = None,
                   interval: int | None = None, keep_cuts: bool = True,
                   extractor: FeatureExtractor | str | None = None,
                   features: np.ndarray | None = None) -> Keyframes:
    """Select keyframes and flag scene cuts.

    ``frames_or_features`` is either uint8 RGB frames (N, H, W, 3) or
    per-frame feature vectors (N, D).  Frames are turned into features with
    ``extractor`` (default: the analytic one) for "similarity" and for
    scene-cut flags; "mse" needs frames.  ``features`` may pass precomputed
    features along with frames.

    * ``threshold``: cosine distance ("similarity") or MSE ("mse") to the
      last keyframe above which a frame becomes a keyframe.
    * ``min_gap``: a threshold-triggered keyframe is at least this many
      frames after the previous one.  The last frame is always a keyframe,
      so the final gap may be shorter.
    * ``max_gap``: a keyframe is forced after at most this many frames.
    * ``interval``: spacing for "uniform".
    * ``keep_cuts`` ("similarity" only): a scene cut always becomes a
      keyframe, even inside ``min_gap``, and so does the frame before it, so
      that no segment interpolates across a cut.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    frames, feats = _split_input(frames_or_features, features)
    n = len(frames) if frames is not None else len(feats)
    if n == 0:
        raise ValueError("no frames")
    min_gap, max_gap = _check_gaps(min_gap, max_gap)
    if strategy == "uniform" and (interval is None or isinstance(interval, bool)
                                  or int(interval) != interval or interval < 1):
        raise ValueError(f"strategy 'uniform' needs a positive int interval, not {interval!r}")
    if strategy == "mse" and frames is None:
        raise ValueError("strategy 'mse' compares pixels: pass frames (N, H, W, 3), not features")
    if feats is None and n > 1:  # "uniform" and "mse" need them only for the cut flags
        ext = get_feature_extractor(extractor) if extractor is None or isinstance(extractor, str) else extractor
        feats = np.asarray(ext(frames), dtype=np.float32)
    cuts = detect_scene_cuts(feats) if feats is not None else set()

    if strategy == "uniform":
        chosen = set(range(0, n, int(interval)))
    elif strategy == "mse":
        t = DEFAULT_MSE_THRESHOLD if threshold is None else float(threshold)
        chosen = _walk(n, lambda i, k: _mse(frames[i], frames[k]) > t, min_gap, max_gap, set())
    else:
        t = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        forced = set()
        if keep_cuts:
            forced = cuts | {c - 1 for c in cuts}
        chosen = _walk(n, lambda i, k: cosine_distance(feats[i], feats[k]) > t, min_gap, max_gap, forced)
    chosen |= {0, n - 1}
    indices = sorted(chosen)
    return Keyframes(indices=indices, scene_cut=[i in cuts for i in indices])


def select_keyframes(frames_or_features: np.ndarray, strategy: str = "similarity", **kwargs) -> list[int]:
    """Keyframe indices, strictly increasing, always holding 0 and N - 1.
    Arguments as for ``find_keyframes``."""
    return find_keyframes(frames_or_features, strategy, **kwargs).indices


def _walk(n: int, changed, min_gap: int, max_gap: int | None, forced: set[int]) -> set[int]:
    """Walk frames 1..n-1 against the last keyframe; ``changed(i, k)`` says
    frame i has moved far enough from keyframe k."""
    chosen, last = {0}, 0
    for i in range(1, n):
        gap = i - last
        if i in forced or (max_gap is not None and gap >= max_gap) or (gap >= min_gap and changed(i, last)):
            chosen.add(i)
            last = i
    return chosen


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    diff = a.astype(np.float32) - b.astype(np.float32)
    return float(np.mean(diff * diff))


def _split_input(x, features) -> tuple[np.ndarray | None, np.ndarray | None]:
    if isinstance(x, np.ndarray) and (x.ndim == 4 or (x.ndim == 3 and x.dtype == np.uint8)):
        frames = check_frames(x)
        if features is not None:
            features = _check_features(features)
            if len(features) != len(frames):
                raise ValueError(f"{len(features)} feature vectors for {len(frames)} frames")
        return frames, features
    if features is not None:
        raise ValueError("pass features either as the first argument or as features=, not both")
    return None, _check_features(x)


def _check_features(f) -> np.ndarray:
    f = np.asarray(f)
    if f.ndim != 2 or not np.issubdtype(f.dtype, np.floating):
        raise ValueError(f"features must be a float array of shape (N, D), not {f.dtype} {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features hold NaN or infinity")
    return f


def _check_gaps(min_gap, max_gap) -> tuple[int, int | None]:
    for label, v in (("min_gap", min_gap), ("max_gap", max_gap)):
        if v is None and label == "max_gap":
            continue
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{label} must be a positive int, not {v!r}")
    if max_gap is not None and max_gap < min_gap:
        raise ValueError(f"max_gap ({max_gap}) is smaller than min_gap ({min_gap})")
    return int(min_gap), None if max_gap is None else int(max_gap)
