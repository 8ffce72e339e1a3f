"""Range coding of CMVC-LIC code symbols with fixed integer tables.

Symbols are coded channel by channel, each channel in raster order, with that
channel's frequency table for the payload's quality (weights_file.QualityTable).
The tables are integers shipped with the weights; constriction receives them
as exactly representable float64 values and builds its fixed-point model from
them, so encoder and decoder agree bit for bit on every machine.
"""
from __future__ import annotations

import numpy as np
import constriction

from ..errors import PayloadError


def _models(table):
    family = constriction.stream.model.Categorical
    return [family(row.astype(np.float64), perfect=False) for row in table.frequencies]


def clamp(symbols: np.ndarray, table) -> np.ndarray:
    """Symbols forced into the table's range (the tails were folded into the
    edge entries when the tables were made)."""
    return np.clip(symbols, -table.radius, table.radius).astype(np.int32)


def encode(symbols: np.ndarray, table) -> bytes:
    """symbols: int [C, H, W] already within +-table.radius."""
    if symbols.shape[0] != table.frequencies.shape[0]:
        raise ValueError("symbol channels do not match the table")
    encoder = constriction.stream.queue.RangeEncoder()
    for channel, model in zip(symbols, _models(table)):
        encoder.encode((channel.ravel() + table.radius).astype(np.int32), model)
    return encoder.get_compressed().astype("<u4").tobytes()


def decode(data: bytes, table, height: int, width: int) -> np.ndarray:
    words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    out = np.empty((table.frequencies.shape[0], height, width), dtype=np.int32)
    try:
        for c, model in enumerate(_models(table)):
            out[c] = decoder.decode(model, height * width).reshape(height, width)
    except Exception as exc:  # constriction raises plain errors on garbage
        raise PayloadError(f"cmvc-lic range decoder failed: {exc}") from None
    return out - table.radius
