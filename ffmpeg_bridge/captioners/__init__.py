"""Content captioners: the keyframes of a segment in, one short caption out.

``get_captioner("analytic")`` (default) needs no model; ``get_captioner("hf:DIR")``
loads a transformers image-to-text model from a local folder (``hf.py``).
"""

from __future__ import annotations

from .analytic import AnalyticCaptioner
from .base import Captioner, context_sentence

__all__ = ["AnalyticCaptioner", "Captioner", "context_sentence", "get_captioner"]


def get_captioner(spec: str | None = "analytic", **kwargs) -> Captioner:
    """"analytic" (default) or "hf:/path/to/model"; ``kwargs`` go to the
    captioner (for "hf": max_new_tokens, prompt, model_id, device)."""
    spec = spec or "analytic"
    if spec == "analytic":
        return AnalyticCaptioner(**kwargs)
    if spec.startswith("hf:"):
        from .hf import LAYOUT, HFCaptioner  # imports torch and transformers: only when asked
        path = spec[len("hf:"):]
        if not path:
            from ffmpeg_bridge.weights import WeightsUnavailableError
            raise WeightsUnavailableError(f"'hf:' needs a model folder. {LAYOUT}")
        return HFCaptioner(path, **kwargs)
    raise ValueError(f"unknown captioner {spec!r}: use 'analytic' or 'hf:/path/to/model'")
