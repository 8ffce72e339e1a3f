import numpy as np
import pytest


def make_texture(h: int, w: int, seed: int = 0, block: int = 4) -> np.ndarray:
    """A deterministic RGB texture with detail at several scales (no flat areas,
    so motion is visible everywhere)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(-(-h // block), -(-w // block), 3))
    img = np.kron(coarse, np.ones((block, block, 1)))[:h, :w].astype(float)
    # A 3x3 box blur softens the block edges so the texture is not pure aliasing.
    padded = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    img = sum(padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / 9.0
    return img.round().astype(np.uint8)


@pytest.fixture(scope="session")
def textured():
    return make_texture


@pytest.fixture(scope="session")
def rife():
    """The real RIFE generator; fetches the weights through the normal path
    (``ffmpeg_bridge.weights``) when they are not cached yet."""
    from ffmpeg_bridge.generators import get_generator
    return get_generator("rife")
