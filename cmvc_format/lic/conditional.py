"""Conditional (predicted) coding of CMVC-LIC symbols (spec/CMVC.md 10.2.1.1).

Keyframes of one random-access group share most of their content, and at
the codec's low quality levels most symbols of a keyframe equal the
co-located symbol of the previous keyframe (measured on
one-by-one-person-detection, keyframes 10 frames apart: 99.7 % at quality 0,
98 % at 2, 85 % at 4). A predicted payload codes the same symbols as a
random-access one, but each symbol s with a probability row that depends on
the co-located symbol v of the previous keyframe's payload:

    P(s = v) = same / 2^16,  P(s = v +- 1) = near / 2^16 together,
    every other value: the rest, shared out in proportion to the intra row.

`same` and `near` are integers per (quality, channel, context), context =
min(|v|, CONTEXTS - 1), stored in the conditional tables file. The payload
header's weight w (0..255) then blends that row with the intra row, so that
one payload can fall back towards random-access statistics where the picture
moves: the tables, fitted on static-camera clips, made a panning clip
(bikes) 30-37 % larger than coding its keyframes alone, and the encoder
picks the w that codes the payload smallest. Every row is built with integer
arithmetic only (`row`), so every machine builds the same rows and decodes
the same symbols.

The reconstruction of a predicted payload is that of its symbols, exactly
as for a random-access payload: the previous keyframe only changes the
probabilities, so symbol errors cannot drift down a group.
"""
from __future__ import annotations

import numpy as np

from ..errors import PayloadError

#: Contexts of the previous symbol: |v| = 0, 1, 2, >= 3.
CONTEXTS = 4
TOTAL = 1 << 16
MAX_WEIGHT = 255
#: The weights an encoder tries (choose_weight): every 16th and 255.
WEIGHTS = tuple(range(0, MAX_WEIGHT, 16)) + (MAX_WEIGHT,)


def context(prev: np.ndarray) -> np.ndarray:
    return np.minimum(np.abs(prev), CONTEXTS - 1)


def row(intra: np.ndarray, radius: int, same: int, near: int, v: int, weight: int = MAX_WEIGHT) -> np.ndarray:
    """The integer frequency row (2*radius+1 entries, each >= 1, summing to
    2^16) of a symbol whose previous co-located symbol is v (|v| <= radius).

    intra: the random-access row of the channel (int, sums to 2^16).
    same, near: integers with same >= 1, near >= 2, same + near <= 2^16 - 2*radius - 1.
    weight: 0..255, the share (of 255) of the conditional row against intra."""
    n = 2 * radius + 1
    centre = v + radius
    neighbours = [i for i in (centre - 1, centre + 1) if 0 <= i < n]
    others = np.ones(n, dtype=bool)
    others[centre] = False
    others[neighbours] = False
    out = np.zeros(n, dtype=np.int64)
    mass = TOTAL - same - (near if neighbours else 0)
    weights = intra.astype(np.int64)[others]
    count = len(weights)
    # every other value gets 1, the remaining mass in proportion to the intra
    # row (floor division); what floor division leaves goes to the centre
    out[others] = 1 + weights * (mass - count) // int(weights.sum())
    out[centre] = same + mass - int(out[others].sum())
    if len(neighbours) == 2:
        out[neighbours[0]] = near // 2
        out[neighbours[1]] = near - near // 2
    elif neighbours:
        out[neighbours[0]] = near
    # blend: both rows are >= 1 everywhere, so the floor is too; the rounding
    # deficit goes to the centre
    out = (weight * out + (MAX_WEIGHT - weight) * intra.astype(np.int64)) // MAX_WEIGHT
    out[centre] += TOTAL - int(out.sum())
    return out


def _rows(intra_table, ctable: np.ndarray, channel: int, prev: np.ndarray, weight: int):
    """(per-position row index, int64 rows) of one channel: one row per
    distinct previous value."""
    values, index = np.unique(prev, return_inverse=True)
    intra = intra_table.frequencies[channel]
    rows = []
    for v in values.tolist():
        same, near = ctable[channel, min(abs(v), CONTEXTS - 1)].tolist()
        rows.append(row(intra, intra_table.radius, same, near, v, weight))
    return index.reshape(-1), np.stack(rows)


def choose_weight(symbols: np.ndarray, prev: np.ndarray, intra_table, ctable: np.ndarray) -> int:
    """The weight of WEIGHTS that codes symbols shortest (encoder side only,
    so estimated in floating point: code length under the unrounded blend)."""
    bits = np.zeros(len(WEIGHTS))
    w = np.array(WEIGHTS, dtype=np.float64)[:, None] / MAX_WEIGHT
    for c in range(symbols.shape[0]):
        index, rows = _rows(intra_table, ctable, c, prev[c].ravel(), MAX_WEIGHT)
        s = symbols[c].ravel() + intra_table.radius
        cond = rows[index, s] / TOTAL
        intra = intra_table.frequencies[c][s] / TOTAL
        bits -= np.log2(w * cond[None] + (1 - w) * intra[None]).sum(1)
    return WEIGHTS[int(np.argmin(bits))]


def _family():
    import constriction
    return constriction.stream.model.Categorical(perfect=False)


def encode(symbols: np.ndarray, prev: np.ndarray, intra_table, ctable: np.ndarray, weight: int) -> bytes:
    """symbols, prev: int [C, H, W] within +-radius (prev: the previous
    keyframe's decoded symbols at the same quality)."""
    import constriction

    if symbols.shape != prev.shape or symbols.shape[0] != ctable.shape[0]:
        raise ValueError("symbols, previous symbols and conditional table do not match")
    encoder = constriction.stream.queue.RangeEncoder()
    family = _family()
    for c in range(symbols.shape[0]):
        index, rows = _rows(intra_table, ctable, c, prev[c].ravel(), weight)
        # exact integers, which float64 represents exactly
        encoder.encode((symbols[c].ravel() + intra_table.radius).astype(np.int32), family,
                       rows[index].astype(np.float64))
    return encoder.get_compressed().astype("<u4").tobytes()


def decode(data: bytes, prev: np.ndarray, intra_table, ctable: np.ndarray, weight: int) -> np.ndarray:
    import constriction

    if prev.shape[0] != ctable.shape[0]:
        raise PayloadError("the previous keyframe's symbols do not match the conditional tables")
    words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    family = _family()
    out = np.empty(prev.shape, dtype=np.int32)
    try:
        for c in range(prev.shape[0]):
            index, rows = _rows(intra_table, ctable, c, prev[c].ravel(), weight)
            out[c] = decoder.decode(family, rows[index].astype(np.float64)).reshape(prev.shape[1:])
    except Exception as exc:  # constriction raises plain errors on garbage
        raise PayloadError(f"cmvc-lic conditional range decoder failed: {exc}") from None
    return out - intra_table.radius


def fit(counts: np.ndarray, radius: int) -> np.ndarray:
    """Integer (same, near) per (channel, context) from counts [C, CONTEXTS,
    3] of (s == v, |s - v| == 1, other), with one pseudo-count each so that
    an unseen context still codes every value; clamped to the limits `row`
    needs. Returns int32 [C, CONTEXTS, 2]."""
    c = counts.astype(np.float64) + 1.0
    p = c / c.sum(-1, keepdims=True)
    limit = TOTAL - 2 * radius - 1
    same = np.clip(np.round(p[..., 0] * TOTAL), 1, limit - 2).astype(np.int64)
    near = np.clip(np.round(p[..., 1] * TOTAL), 2, None).astype(np.int64)
    near = np.minimum(near, limit - same)
    return np.stack([same, near], -1).astype(np.int32)


def tally(symbols: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """Counts [C, CONTEXTS, 3] of (s == v, |s - v| == 1, other) per channel
    and context of v, for `fit`."""
    ctx = context(prev)
    diff = np.abs(symbols.astype(np.int64) - prev)
    kind = np.where(diff == 0, 0, np.where(diff == 1, 1, 2))
    channels = symbols.shape[0]
    flat = (np.arange(channels)[:, None, None] * CONTEXTS + ctx) * 3 + kind
    return np.bincount(flat.ravel(), minlength=channels * CONTEXTS * 3).reshape(channels, CONTEXTS, 3)
