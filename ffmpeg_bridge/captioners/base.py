"""The interface every captioner implements, and the measured context it may
append to a caption (spec 5.3: captions describe, they do not invent)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ffmpeg_bridge.analysis.features import check_frames

__all__ = ["Captioner", "context_sentence"]


class Captioner(ABC):
    """Turns the keyframes of one segment into a content caption.

    ``model_id`` and ``sha256`` are what the stream's model table records for
    the captioner (role 4); ``sha256`` is ``None`` when no weights are used.
    """

    name: str
    model_id: str
    sha256: str | None = None

    def caption(self, frames: np.ndarray, *, context: dict | None = None) -> str:
        """Caption a segment from its keyframes, uint8 RGB (K, H, W, 3).

        ``context`` may carry facts measured elsewhere: 'motion_caption'
        (str), 'scene_cut' (bool), 'segment_index', 'fps', 'duration_s'.
        """
        frames = check_frames(frames, "keyframes")
        if context is not None and not isinstance(context, dict):
            raise TypeError(f"context must be a dict or None, not {type(context).__name__}")
        return self._caption(frames, context or {})

    @abstractmethod
    def _caption(self, frames: np.ndarray, context: dict) -> str:
        """Inputs already checked; K >= 1."""


def context_sentence(context: dict, extra: list[str] | None = None) -> str:
    """One sentence from measured facts: the scene cut, ``extra`` clauses,
    then the motion caption as given.  Empty when there is nothing to say."""
    parts = []
    if context.get("scene_cut"):
        parts.append("it starts at a scene cut")
    parts.extend(extra or [])
    motion = context.get("motion_caption")
    if motion is not None:
        if not isinstance(motion, str):
            raise TypeError(f"context['motion_caption'] must be a str, not {type(motion).__name__}")
        motion = " ".join(motion.split()).rstrip(".")
        if motion:
            parts.append(motion[0].lower() + motion[1:] if not motion[:2].isupper() else motion)
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
