"""IT2V frame generators: produce the frames between two decoded keyframes.

    gen = get_generator("rife")            # or "blend", "hold"
    frames = gen.interpolate(key_a, key_b, n_between, motion=None)

``rife`` needs pretrained weights (see ``ffmpeg_bridge.weights``); when they
are missing and cannot be fetched, ``get_generator("rife")`` raises
``WeightsUnavailableError`` instead of substituting another generator.
"""

from __future__ import annotations

from collections.abc import Callable

from ..weights import WeightsUnavailableError
from .base import Generator, MotionStep, timesteps
from .simple import BlendGenerator, HoldGenerator


def _rife(**options) -> Generator:
    # Imported lazily: hold and blend must work without loading torch.
    from .rife import RifeGenerator
    return RifeGenerator(**options)


_FACTORIES: dict[str, Callable[..., Generator]] = {
    "rife": _rife,
    "blend": lambda **options: BlendGenerator(**options),
    "hold": lambda **options: HoldGenerator(**options),
}

NAMES = tuple(_FACTORIES)


def get_generator(name: str, **options) -> Generator:
    """A generator by registry name; ``options`` go to its constructor
    (for rife: device, strategy, scale, prealign, prealign_threshold,
    weights_path, allow_fetch)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise KeyError(f"unknown generator {name!r}; known: {', '.join(NAMES)}") from None
    return factory(**options)


__all__ = ["NAMES", "Generator", "MotionStep", "WeightsUnavailableError", "get_generator", "timesteps"]
