"""A captioner that needs no model: it states what it measures in the pixels.

It cannot say *what* is in the picture (no recognition), only how it looks:
brightness, dominant colours, colourfulness, amount of detail, whether the
picture changes across the segment's keyframes, plus measured facts passed in
``context`` (scene cut, motion caption).  Same input, same words.
"""

from __future__ import annotations

import numpy as np

from ffmpeg_bridge.analysis.features import AnalyticFeatures, srgb_to_lab
from ffmpeg_bridge.analysis.keyframes import cosine_distance

from .base import Captioner, context_sentence

__all__ = ["AnalyticCaptioner", "PALETTE", "colour_shares"]

#: Named colours, as sRGB; pixels are named by the nearest entry in CIELAB,
#: where distance roughly follows perceived difference.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "grey": (128, 128, 128),
    "white": (255, 255, 255),
    "red": (210, 30, 30),
    "orange": (240, 140, 30),
    "yellow": (240, 220, 50),
    "green": (60, 160, 60),
    "dark green": (25, 75, 30),
    "cyan": (60, 200, 220),
    "blue": (40, 80, 200),
    "navy": (20, 30, 90),
    "purple": (120, 50, 160),
    "pink": (240, 150, 190),
    "brown": (120, 70, 35),
    "beige": (225, 205, 165),
}
_NAMES = list(PALETTE)
_PALETTE_LAB = srgb_to_lab(np.array([PALETTE[n] for n in _NAMES], dtype=np.float32))


def colour_shares(lab: np.ndarray) -> dict[str, float]:
    """Fraction of pixels nearest to each palette colour (CIELAB ΔE76)."""
    px = lab.reshape(-1, 3)
    d = ((px[:, None, :] - _PALETTE_LAB[None, :, :]) ** 2).sum(axis=2)
    counts = np.bincount(np.argmin(d, axis=1), minlength=len(_NAMES))
    return {n: c / len(px) for n, c in zip(_NAMES, counts) if c}


def _level(value: float, bounds: tuple[float, ...], words: tuple[str, ...]) -> str:
    return words[int(np.searchsorted(bounds, value, side="right"))]


class AnalyticCaptioner(Captioner):
    """Describes measured appearance in one or two short sentences.

    Measurements, on the keyframes box-filtered to at most 160 pixels a side
    (so that sensor noise and dithering do not read as colour or detail):

    * brightness: mean L* (CIELAB lightness, 0-100): dark < 25 <= dim < 45
      <= moderately lit < 70 <= bright;
    * dominant colours: up to three palette names covering >= 15 % of the
      pixels each (the most common is always named);
    * colourfulness: Hasler and Suesstrunk's metric (sigma_rgyb +
      0.3 mu_rgyb, on 0-255 RGB), cut at their "slightly", "averagely" and
      "highly colourful" levels: < 15 almost no colour, < 45 muted,
      < 82 moderately vivid, else vivid;
    * detail: mean L* gradient magnitude per pixel: < 1.5 little detail,
      < 5 some detail, else much detail;
    * change: largest analytic-feature cosine distance of a keyframe from the
      first one: < 0.05 stays the same, < 0.3 changes somewhat, else changes
      substantially (only with two or more keyframes).
    """

    name = "analytic"
    model_id = "cmvc-analytic-caption-1"
    sha256 = None
    min_share = 0.15
    max_colours = 3

    def __init__(self):
        self._features = AnalyticFeatures()

    def _caption(self, frames: np.ndarray, context: dict) -> str:
        rgb = self._features.working_rgb(frames)
        lab = srgb_to_lab(rgb)
        light = _level(float(lab[..., 0].mean()), (25, 45, 70),
                       ("dark", "dim", "moderately lit", "bright"))
        colours = self._dominant(lab)
        vivid = _level(self._colourfulness(rgb), (15, 45, 82),
                       ("almost no colour", "muted colours", "moderately vivid colours", "vivid colours"))
        detail = _level(self._detail(lab[..., 0]), (1.5, 5.0),
                        ("little detail", "some detail", "much detail"))
        first = f"A {light} picture, mainly {colours}, with {vivid} and {detail}."
        extra = [self._change(frames)] if len(frames) > 1 else []
        second = context_sentence(context, extra)
        return f"{first} {second}" if second else first

    def _dominant(self, lab: np.ndarray) -> str:
        ranked = sorted(colour_shares(lab).items(), key=lambda kv: (-kv[1], _NAMES.index(kv[0])))
        names = [n for i, (n, s) in enumerate(ranked[:self.max_colours]) if i == 0 or s >= self.min_share]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    @staticmethod
    def _colourfulness(rgb: np.ndarray) -> float:
        rg = rgb[..., 0] - rgb[..., 1]
        yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
        return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))

    @staticmethod
    def _detail(luma: np.ndarray) -> float:
        if luma.shape[1] < 2 or luma.shape[2] < 2:
            return 0.0
        gx = np.diff(luma, axis=2)[:, :-1, :]
        gy = np.diff(luma, axis=1)[:, :, :-1]
        return float(np.hypot(gx, gy).mean())

    def _change(self, frames: np.ndarray) -> str:
        f = self._features(frames)
        d = float(cosine_distance(f[1:], f[0]).max())
        return _level(d, (0.05, 0.3), ("the picture stays the same", "the picture changes somewhat",
                                       "the picture changes substantially"))
