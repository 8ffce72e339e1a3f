import numpy as np
import pytest


@pytest.fixture
def solid():
    def make(rgb, k=1, h=36, w=64):
        return np.full((k, h, w, 3), rgb, np.uint8)
    return make
