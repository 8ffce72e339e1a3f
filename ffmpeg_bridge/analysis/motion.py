"""Per-frame global motion for the encoder (spec 5.4, model 1) and the motion caption.

Units of the returned parameter arrays, shape (N, 4), float64, one row per
frame, row i = motion of the picture *content* from frame i-1 to frame i
(row 0 is zero):

    tx, ty    pixels (luma samples), +x right, +y down
    zoom      log2 of the scale factor, > 0 when the content grows
    rotation  radians, > 0 when the content turns counter-clockwise as displayed

so a scene point at pixel p of frame i-1 is seen at

    p' = c + 2**zoom * [[cos r, sin r], [-sin r, cos r]] @ (p - c) + (tx, ty)

in frame i, with c = ((W-1)/2, (H-1)/2) and y pointing down (the matrix is a
counter-clockwise turn on screen because y points down).  ``quantize`` turns
rows into the stream's s16 records (1/16 px, 2^-12, 2^-13 rad).  Note that
``ffmpeg_bridge.generators.motion`` takes zoom as a plain factor and documents
its positive rotation as clockwise: a caller feeding it these rows converts
both.

Two estimators:

* From the decoder's motion vectors (``motion_vectors`` with FFmpeg's
  ``export_mvs``; H.264 / MPEG-2 / MPEG-4 part 2 / H.263 export them, HEVC,
  VP9 and AV1 decoders do not).  FFmpeg only says whether a vector points
  into the past or the future (``source`` -1 / +1), not *which* frame, and
  with B-frames the past reference of a P-frame is usually several frames
  back.  ``estimate_global_motion`` therefore picks each frame's reference
  distance by block matching the vectors against the decoded pictures, fits
  one similarity per (frame, direction) and solves the resulting interval
  sums ("frames j..i moved by m") for per-frame steps by least squares.
* From pixels (``global_motion_from_frames``), numpy only: block matching on
  a small pyramid level (searched around zero and around the phase
  correlation peak) votes for a coarse similarity, which sub-pixel block
  matching on the working level (luma at most FLOW_MAX_WIDTH wide) refines;
  both fits are the same robust similarity fit as for the vectors, so the
  motion of the larger part of the picture wins over a strongly textured
  moving object.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "motion_vectors", "global_motion_from_vectors", "global_motion_from_frames",
    "estimate_global_motion", "quantize", "dequantize", "describe",
    "TX_UNIT", "ZOOM_UNIT", "ROTATION_UNIT",
]

#: Spec 5.4 model 1 units: one record step is this many px / log2 / radians.
TX_UNIT = 1.0 / 16
ZOOM_UNIT = 1.0 / 4096
ROTATION_UNIT = 1.0 / 8192
_S16 = (-32768, 32767)

#: Largest reference distance (frames) considered for a motion vector; x264's
#: defaults (3 B-frames, 3 references) stay within it.
MAX_REF_DISTANCE = 8


# ---------------------------------------------------------------------------
# Similarity helpers.  Internally a similarity is (a, b, tx, ty) with
# v = [[a, b], [-b, a]] u + t, u and v relative to the picture centre.
# ---------------------------------------------------------------------------

def _to_params(a: float, b: float, tx: float, ty: float) -> np.ndarray:
    s = math.hypot(a, b)
    if not (s > 0 and math.isfinite(s)):
        return np.full(4, np.nan)
    return np.array([tx, ty, math.log2(s), math.atan2(b, a)])


def _to_linear(p: np.ndarray) -> tuple[float, float, float, float]:
    s = 2.0 ** p[2]
    return s * math.cos(p[3]), s * math.sin(p[3]), p[0], p[1]


def _inverse(p: np.ndarray) -> np.ndarray:
    """Parameters of the inverse similarity (about the same centre)."""
    a, b, tx, ty = _to_linear(p)
    d = a * a + b * b
    ia, ib = a / d, -b / d  # inverse of [[a, b], [-b, a]] is [[a, -b], [b, a]] / d
    return _to_params(ia, ib, -(ia * tx + ib * ty), -(-ib * tx + ia * ty))


def _weighted_similarity(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares (a, b, tx, ty) for v ~ M u + t; u, v (n, 2)."""
    n = len(u)
    rows = np.zeros((2 * n, 4))
    rows[0::2, 0], rows[0::2, 1], rows[0::2, 2] = u[:, 0], u[:, 1], 1.0
    rows[1::2, 0], rows[1::2, 1], rows[1::2, 3] = u[:, 1], -u[:, 0], 1.0
    rhs = v.reshape(-1)
    sw = np.sqrt(np.repeat(w, 2))
    sol, *_ = np.linalg.lstsq(rows * sw[:, None], rhs * sw, rcond=None)
    return sol


def _robust_similarity(u: np.ndarray, v: np.ndarray, w: np.ndarray, span: float,
                       noise_floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Tukey-IRLS similarity fit; returns ((a, b, tx, ty), final weights).

    Starts from the weighted median displacement (no zoom, no rotation), which
    already ignores a minority of moving objects, then reweights.  When the
    points cover too small an area for zoom and rotation to be determined
    (``span``: their RMS distance from their centroid, px), only a translation
    is fitted.
    """
    d = v - u
    t0 = np.array([_weighted_median(d[:, 0], w), _weighted_median(d[:, 1], w)])
    sol = np.array([1.0, 0.0, t0[0], t0[1]])
    translation_only = span < 8.0
    cur = w.copy()
    for _ in range(12):
        pred = np.stack([sol[0] * u[:, 0] + sol[1] * u[:, 1] + sol[2],
                         -sol[1] * u[:, 0] + sol[0] * u[:, 1] + sol[3]], 1)
        r = np.hypot(*(pred - v).T)
        # 1.4826 * MAD estimates the inlier spread.  The floor keeps
        # quantisation noise (quarter-pel vectors, whole-pixel block matches)
        # from shrinking it to 0; the cap keeps a second motion covering a
        # third of the picture from inflating it until both motions count
        # as inliers and get averaged.
        mad = 1.4826 * float(np.median(r[w > 0])) if np.any(w > 0) else 0.0
        scale = min(max(mad, noise_floor), 2.0 * noise_floor)
        c = 4.685 * scale  # Tukey biweight's usual 95 %-efficiency constant
        cur = w * np.where(r < c, (1 - (r / c) ** 2) ** 2, 0.0)
        if np.count_nonzero(cur) < 3:
            return np.full(4, np.nan), np.zeros_like(w)
        if translation_only:
            new = np.array([1.0, 0.0, *(np.sum(cur[:, None] * d, 0) / cur.sum())])
        else:
            new = _weighted_similarity(u, v, cur)
        done = np.max(np.abs(new - sol) * np.array([span, span, 1, 1])) < 1e-3
        sol = new
        if done:
            break
    return sol, cur


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])


# ---------------------------------------------------------------------------
# Motion vectors
# ---------------------------------------------------------------------------

def _open(path):
    import av  # local: importing this module must not need av (e.g. describe only)

    container = av.open(str(path))
    stream = container.streams.video[0]
    cc = stream.codec_context
    cc.options = {"flags2": "+export_mvs"}
    # Frame threading makes the exported vectors differ from run to run
    # (observed with FFmpeg's H.264 decoder); slice threading is off too so
    # the result never depends on the core count.
    cc.thread_type = "NONE"
    cc.thread_count = 1
    return container, stream


def _frame_vectors(frame) -> np.ndarray | None:
    sd = frame.side_data
    try:
        mv = sd["MOTION_VECTORS"]
    except (KeyError, ValueError):
        return None
    # to_ndarray is a view of the frame's buffer: copy before the frame goes.
    arr = np.array(mv.to_ndarray(), copy=True)
    return arr if len(arr) else None


def _luma(frame) -> np.ndarray:
    """The luma plane of a decoded frame as a uint8/uint16 (H, W) array."""
    name = frame.format.name
    if name in {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}:
        plane = frame.planes[0]
        a = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return a[:frame.height, :frame.width].copy()
    return frame.to_ndarray(format="gray")


def _decode(path, max_frames, *, luma: bool):
    container, stream = _open(path)
    try:
        for i, frame in enumerate(container.decode(stream)):
            if max_frames is not None and i >= max_frames:
                break
            yield _frame_vectors(frame), (_luma(frame) if luma else None), frame.width, frame.height
    finally:
        container.close()


def motion_vectors(path: str | Path, max_frames: int | None = None) -> list[np.ndarray | None]:
    """Per decoded frame (display order), FFmpeg's exported motion vectors.

    Each entry is a structured array with AVMotionVector's fields (source,
    w, h, src_x, src_y, dst_x, dst_y, flags, motion_x, motion_y,
    motion_scale), or None for frames without vectors (intra frames, codecs
    that export none).  ``dst`` is the block centre in the current frame; the
    reference position is ``dst + motion / motion_scale`` (``src`` is that
    rounded); ``source`` < 0 means the reference lies in the past, > 0 in the
    future, at an unstated distance.
    """
    return [mv for mv, _, _, _ in _decode(path, max_frames, luma=False)]


def _usable(mv: np.ndarray, direction: int, width: int, height: int):
    """Positions (reference, current) in pixel-centre coordinates and weights."""
    sel = mv[(np.sign(mv["source"]) == direction) & (mv["motion_scale"] > 0)]
    if len(sel) == 0:
        return None
    scale = sel["motion_scale"].astype(np.float64)
    # FFmpeg puts dst at block origin + size/2, half a pixel right of / below
    # the true centre of the block's pixels (origin + (size-1)/2).
    dst = np.stack([sel["dst_x"] - 0.5, sel["dst_y"] - 0.5], 1).astype(np.float64)
    src = dst + np.stack([sel["motion_x"] / scale, sel["motion_y"] / scale], 1)
    hw = np.stack([sel["w"], sel["h"]], 1) / 2.0
    # A reference block reaching outside the picture was matched against
    # edge padding: such vectors say little about the scene's motion.
    inside = np.all((src - hw >= -0.5) & (src + hw <= np.array([width, height]) - 0.5), 1)
    if not np.any(inside):
        return None
    area = (sel["w"].astype(np.float64) * sel["h"])[inside]
    return src[inside], dst[inside], area


def _fit_vectors(mv: np.ndarray, direction: int, width: int, height: int) -> np.ndarray | None:
    """Similarity taking the reference frame to the current one (params), or None."""
    got = _usable(mv, direction, width, height)
    if got is None:
        return None
    src, dst, area = got
    if len(src) < 8:
        return None
    c = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    u, v = src - c, dst - c
    span = float(np.sqrt(np.mean(np.sum((u - u.mean(0)) ** 2, 1))))
    sol, wts = _robust_similarity(u, v, area, span, noise_floor=0.5)
    inliers = int(np.count_nonzero(wts))
    # A fit carried by a handful of blocks (a frame that is mostly intra
    # coded, e.g. across a scene cut) is not a global motion.
    if inliers < max(8, len(src) // 10):
        return None
    p = _to_params(*sol)
    return p if np.all(np.isfinite(p)) else None


def _anchor_distances(mvs: Sequence[np.ndarray | None]) -> list[tuple[int | None, int | None]]:
    """Reference distances guessed from the frame structure alone.

    A frame with future-pointing vectors is taken as a B-frame; every other
    frame (I, P) as an anchor.  A frame's past reference is then the previous
    anchor and its future reference the next one.  Right for IPPP and plain
    IBBP streams; wrong for B-pyramids and for blocks using older references,
    which is why the path-based estimator measures the distances instead.
    """
    n = len(mvs)
    is_b = [mv is not None and bool(np.any(mv["source"] > 0)) for mv in mvs]
    out: list[tuple[int | None, int | None]] = []
    for i in range(n):
        past = next((i - j for j in range(i - 1, -1, -1) if not is_b[j]), None)
        fut = next((j - i for j in range(i + 1, n) if not is_b[j]), None)
        out.append((past, fut))
    return out


def _measurements(mvs, distances, width, height):
    """Interval measurements (a, b, params): content motion from frame a to frame b."""
    meas = []
    for i, mv in enumerate(mvs):
        if mv is None:
            continue
        past, fut = distances[i]
        if past is not None and 0 < past <= i:
            p = _fit_vectors(mv, -1, width, height)
            if p is not None:
                meas.append((i - past, i, p))
        if fut is not None and 0 < fut < len(mvs) - i:
            p = _fit_vectors(mv, +1, width, height)
            if p is not None:
                # The fit takes frame i+fut to frame i; the interval runs forwards.
                meas.append((i, i + fut, _inverse(p)))
    return meas


def _solve_intervals(n: int, meas: list, window: int = 256, margin: int = 24) -> np.ndarray:
    """Per-frame steps x_1..x_{n-1} from interval sums sum_{k=a+1..b} x_k = m.

    Log zoom and angle compose additively; translations do up to terms of
    order (zoom, angle) x translation, negligible per frame.  A weak
    smoothness term (x_k ~ x_{k+1}, weight 0.01) only decides how a sum
    spread over several otherwise unobserved frames is shared (evenly);
    steps no measurement covers stay NaN.  Solved in overlapping windows so
    the cost stays linear in the number of frames.
    """
    out = np.full((n, 4), np.nan)
    if n == 0:
        return out
    out[0] = 0.0
    covered = np.zeros(n, bool)
    for a, b, _ in meas:
        covered[a + 1:b + 1] = True
    if n == 1 or not meas:
        return out
    meas = sorted(meas, key=lambda m: (m[0], m[1]))
    lam = 0.01
    start = 1
    while start < n:
        lo = max(1, start - margin)
        hi = min(n, start + window)
        keep_hi = hi if hi == n else hi - margin
        idx = {k: k - lo for k in range(lo, hi)}
        rows, rhs = [], []
        for a, b, m in meas:
            if a + 1 >= lo and b < hi:
                r = np.zeros(hi - lo)
                r[a + 1 - lo:b + 1 - lo] = 1.0
                rows.append(r)
                rhs.append(m)
        for k in range(lo, hi - 1):
            r = np.zeros(hi - lo)
            r[idx[k]], r[idx[k + 1]] = lam, -lam
            rows.append(r)
            rhs.append(np.zeros(4))
        if rows:
            mat, vec = np.array(rows), np.array(rhs)
            try:
                # Normal equations: a few ms where a dense lstsq of the
                # same system takes about a second per window.
                sol = np.linalg.solve(mat.T @ mat, mat.T @ vec)
            except np.linalg.LinAlgError:  # no measurement inside this window
                sol, *_ = np.linalg.lstsq(mat, vec, rcond=None)
            out[start:keep_hi] = sol[start - lo:keep_hi - lo]
        start = keep_hi
    out[~covered] = np.nan
    out[0] = 0.0
    return out


def global_motion_from_vectors(mvs: Sequence[np.ndarray | None], width: int, height: int, *,
                               ref_distances: Sequence[tuple[int | None, int | None]] | None = None
                               ) -> np.ndarray:
    """(N, 4) global motion (module units) from per-frame motion vectors.

    ``ref_distances[i]`` = (past, future) distance in frames of frame i's
    references; by default they are guessed from the frame structure (see
    ``_anchor_distances``), which is exact for streams without B-pyramids or
    multiple references.  ``estimate_global_motion`` measures them from the
    pictures instead.  Rows of frames whose step no vector constrains are NaN.
    """
    if ref_distances is None:
        ref_distances = _anchor_distances(mvs)
    return _solve_intervals(len(mvs), _measurements(mvs, ref_distances, width, height))


def _best_distance(mv: np.ndarray, direction: int, cur: np.ndarray, refs: dict[int, np.ndarray]
                   ) -> int | None:
    """The candidate reference distance whose picture the vectors match best.

    For (a deterministic subset of) the vectors, compares the 8x8 patch at the
    block centre in the current picture with the patch the vector points to in
    each candidate reference; the candidate with the lowest median mean
    absolute difference wins (ties: the nearest).
    """
    if not refs:
        return None
    sel = mv[np.sign(mv["source"]) == direction]
    if len(sel) == 0:
        return None
    if len(sel) > 400:
        sel = sel[:: math.ceil(len(sel) / 400)]
    h, w = cur.shape
    dx, dy = sel["dst_x"].astype(np.intp) - 4, sel["dst_y"].astype(np.intp) - 4
    sx, sy = sel["src_x"].astype(np.intp) - 4, sel["src_y"].astype(np.intp) - 4
    ok = ((dx >= 0) & (dy >= 0) & (dx + 8 <= w) & (dy + 8 <= h)
          & (sx >= 0) & (sy >= 0) & (sx + 8 <= w) & (sy + 8 <= h))
    if np.count_nonzero(ok) < 8:
        return min(refs)
    g = np.arange(8)
    ys_d = (dy[ok][:, None, None] + g[None, :, None])
    xs_d = (dx[ok][:, None, None] + g[None, None, :])
    ys_s = (sy[ok][:, None, None] + g[None, :, None])
    xs_s = (sx[ok][:, None, None] + g[None, None, :])
    patch = cur[ys_d, xs_d].astype(np.int32)
    best, best_cost = None, math.inf
    for d in sorted(refs):
        cost = float(np.median(np.abs(refs[d][ys_s, xs_s].astype(np.int32) - patch).mean((1, 2))))
        if cost < best_cost - 1e-9:
            best, best_cost = d, cost
    return best


def _vector_motion(path, max_frames=None):
    """Decode once: vectors, measured reference distances, size."""
    k = MAX_REF_DISTANCE
    lumas: dict[int, np.ndarray] = {}
    mvs: list[np.ndarray | None] = []
    dist: list[tuple[int | None, int | None]] = []
    pending: deque[int] = deque()
    width = height = 0

    def settle(i: int, n_known: int):
        mv = mvs[i]
        if mv is None:
            dist.append((None, None))
            return
        past = {d: lumas[i - d] for d in range(1, k + 1) if i - d in lumas}
        fut = {d: lumas[i + d] for d in range(1, k + 1) if i + d in lumas and i + d < n_known}
        dist.append((_best_distance(mv, -1, lumas[i], past), _best_distance(mv, +1, lumas[i], fut)))

    for i, (mv, y, width, height) in enumerate(_decode(path, max_frames, luma=True)):
        mvs.append(mv)
        lumas[i] = y
        pending.append(i)
        while pending and pending[0] + k <= i:
            settle(pending.popleft(), i + 1)
        # Settling frame j (at i = j + k) needs pictures j-k .. j+k.
        for old in [j for j in lumas if j < i - 2 * k]:
            del lumas[old]
    while pending:
        settle(pending.popleft(), len(mvs))
    return mvs, dist, width, height


# ---------------------------------------------------------------------------
# Pixel-based estimation
# ---------------------------------------------------------------------------

#: The pixel method works on luma box-downscaled to at most this width:
#: enough detail for sub-pixel alignment; about 0.07 s per 1080p frame pair
#: (pyramids included) on this project's CPU dev machine.
FLOW_MAX_WIDTH = 480


def _to_luma(frame: np.ndarray) -> np.ndarray:
    f = np.asarray(frame)
    if f.ndim == 3 and f.shape[2] >= 3:
        f = f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114  # BT.601 luma
    elif f.ndim == 3 and f.shape[2] == 1:
        f = f[..., 0]
    elif f.ndim != 2:
        raise ValueError(f"a frame must be (H, W) or (H, W, 3), not {f.shape}")
    return f.astype(np.float32)


def _box_down(img: np.ndarray, f: int) -> np.ndarray:
    h, w = (img.shape[0] // f) * f, (img.shape[1] // f) * f
    return img[:h, :w].reshape(h // f, f, w // f, f).mean((1, 3), dtype=np.float32)


class _Pyramid:
    """Box-filter pyramid of one frame's luma; level 0 is the working size.

    ``factor`` maps working pixels to native ones; ``offset`` is how far the
    working picture's centre lies from the native centre (cropping to a
    multiple of the factor moves it), in native pixels.
    """

    def __init__(self, frame: np.ndarray):
        y = _to_luma(frame)
        h, w = y.shape
        f = max(1, math.ceil(w / FLOW_MAX_WIDTH))
        self.native = (w, h)
        self.factor = f
        base = _box_down(y, f) if f > 1 else y
        hb, wb = base.shape
        self.offset = np.array([((wb * f - 1) / 2) - (w - 1) / 2, ((hb * f - 1) / 2) - (h - 1) / 2])
        self.levels = [base]
        # Down to the block-matching level (the first at most BM_LEVEL_WIDTH wide).
        while self.levels[-1].shape[1] > BM_LEVEL_WIDTH and self.levels[-1].shape[0] >= 32:
            self.levels.append(_box_down(self.levels[-1], 2))


#: Block size and search radius (pixels of the block-matching level, the
#: first pyramid level at most BM_LEVEL_WIDTH wide) of the coarse stage.
BM_LEVEL_WIDTH = 160
BM_BLOCK = 8
BM_RADIUS = 6


def _phase_correlation(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """Translation t (px) with b(x) ~ a(x - t), and the correlation peak height."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    fa = np.fft.rfft2((a - a.mean()) * win)
    fb = np.fft.rfft2((b - b.mean()) * win)
    cross = fb * np.conj(fa)
    cross /= np.maximum(np.abs(cross), 1e-9)
    corr = np.fft.irfft2(cross, s=(h, w))
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    peak = float(corr[iy, ix])
    ty = iy - h if iy > h // 2 else iy
    tx = ix - w if ix > w // 2 else ix
    return np.array([tx, ty], float), peak


def _block_search(a: np.ndarray, b: np.ndarray, centre: tuple[int, int]):
    """Exhaustive block matching of a's BM_BLOCK blocks in b around ``centre``.

    Returns per block (row-major grid) the best displacement (dx, dy) with
    a(x) ~ b(x + d), i.e. the content motion, and its mean absolute
    difference; displacements whose block would leave b are not considered.
    """
    bs, r = BM_BLOCK, BM_RADIUS
    h, w = a.shape
    nby, nbx = h // bs, w // bs
    cx, cy = centre
    pad = r + max(abs(cx), abs(cy))
    bpad = np.pad(b, pad, mode="edge")
    y0 = np.repeat(np.arange(nby) * bs, nbx)
    x0 = np.tile(np.arange(nbx) * bs, nby)
    win = np.lib.stride_tricks.sliding_window_view(bpad, (bs + 2 * r, bs + 2 * r))
    wins = win[y0 + pad + cy - r, x0 + pad + cx - r]  # (nb, bs+2r, bs+2r)
    cand = np.lib.stride_tricks.sliding_window_view(wins, (bs, bs), axis=(1, 2))  # (nb, 2r+1, 2r+1, bs, bs)
    blocks = a[:nby * bs, :nbx * bs].reshape(nby, bs, nbx, bs).transpose(0, 2, 1, 3).reshape(-1, 1, 1, bs, bs)
    cost = np.abs(cand - blocks).mean((3, 4))
    d = np.arange(-r, r + 1)
    ty = y0[:, None, None] + cy + d[None, :, None]
    tx = x0[:, None, None] + cx + d[None, None, :]
    cost[np.broadcast_to((ty < 0) | (ty + bs > h) | (tx < 0) | (tx + bs > w), cost.shape)] = np.inf
    flat = cost.reshape(len(cost), -1)
    best = np.argmin(flat, 1)
    iy, ix = np.divmod(best, 2 * r + 1)
    disp = np.stack([ix - r + cx, iy - r + cy], 1).astype(np.float64)
    return disp, flat[np.arange(len(flat)), best]


def _block_fit(a: np.ndarray, b: np.ndarray):
    """Coarse similarity (a, b, tx, ty) from block votes, or None.

    Every textured block votes with its best displacement; the robust fit
    starts from the weighted median, so the motion of the larger part of the
    picture wins even when a smaller part (a vehicle crossing a static scene)
    has stronger edges.  Candidates are searched around zero and around the
    phase-correlation peak, so fast pans beyond the search radius are found.
    """
    bs = BM_BLOCK
    h, w = a.shape
    nby, nbx = h // bs, w // bs
    if nby < 2 or nbx < 2:
        return None
    disp, cost = _block_search(a, b, (0, 0))
    t, peak = _phase_correlation(a, b)
    if peak > 0.05 and np.max(np.abs(t)) > BM_RADIUS // 2:
        d2, c2 = _block_search(a, b, (int(t[0]), int(t[1])))
        better = c2 < cost
        disp[better], cost[better] = d2[better], c2[better]
    blocks = a[:nby * bs, :nbx * bs].reshape(nby, bs, nbx, bs)
    texture = blocks.std((1, 3)).reshape(-1)
    # Flat blocks match anywhere: they would vote for noise.  The bar is
    # low (grey levels of standard deviation) because fine texture such as
    # a road surface is faint once downscaled, yet it is often the static
    # majority of the picture.
    usable = np.isfinite(cost) & (texture > 1.0)
    if np.count_nonzero(usable) < 6:
        return None
    centres = np.stack([np.tile(np.arange(nbx) * bs, nby), np.repeat(np.arange(nby) * bs, nbx)], 1) + (bs - 1) / 2
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    u = centres[usable] - c
    v = u + disp[usable]
    span = float(np.sqrt(np.mean(np.sum((u - u.mean(0)) ** 2, 1))))
    sol, _ = _robust_similarity(u, v, np.ones(len(u)), span, noise_floor=0.35)
    return sol if np.all(np.isfinite(sol)) else None


#: Fine stage: block size and search radius around the coarse prediction,
#: in working-level pixels.
FINE_BLOCK = 16
FINE_RADIUS = 3


def _block_refine(a: np.ndarray, b: np.ndarray, sol: np.ndarray):
    """Sub-pixel block displacements at the working level around a prediction.

    Each FINE_BLOCK block is matched (sum of squared differences) within
    FINE_RADIUS of where the coarse similarity ``sol`` puts it, and the
    minimum is refined by a parabola through its neighbours in x and in y.
    Blocks whose minimum lies on the edge of the window move otherwise than
    the prediction and are dropped, as are flat blocks.  Returns the block
    centres relative to the picture centre and their displacements.
    """
    bs, r = FINE_BLOCK, FINE_RADIUS
    h, w = a.shape
    nby, nbx = h // bs, w // bs
    if nby < 1 or nbx < 2:
        return None, None
    y0 = np.repeat(np.arange(nby) * bs, nbx)
    x0 = np.tile(np.arange(nbx) * bs, nby)
    u = np.stack([x0, y0], 1) + (bs - 1) / 2.0 - np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    pred = np.stack([sol[0] * u[:, 0] + sol[1] * u[:, 1] + sol[2],
                     -sol[1] * u[:, 0] + sol[0] * u[:, 1] + sol[3]], 1) - u
    pi = np.rint(pred).astype(np.intp)
    pad = r + int(np.max(np.abs(pi))) + 1
    win = np.lib.stride_tricks.sliding_window_view(np.pad(b, pad, mode="edge"), (bs, bs))
    blocks = a[:nby * bs, :nbx * bs].reshape(nby, bs, nbx, bs).transpose(0, 2, 1, 3).reshape(-1, bs, bs)
    cost = np.empty((len(blocks), 2 * r + 1, 2 * r + 1))
    for iy, dy in enumerate(range(-r, r + 1)):
        ty = y0 + pi[:, 1] + dy
        for ix, dx in enumerate(range(-r, r + 1)):
            tx = x0 + pi[:, 0] + dx
            c = ((win[ty + pad, tx + pad] - blocks) ** 2).mean((1, 2))
            c[(ty < 0) | (ty + bs > h) | (tx < 0) | (tx + bs > w)] = np.inf
            cost[:, iy, ix] = c
    flat = cost.reshape(len(cost), -1)
    iy, ix = np.divmod(np.argmin(flat, 1), 2 * r + 1)
    ok = (iy > 0) & (iy < 2 * r) & (ix > 0) & (ix < 2 * r) & (blocks.std((1, 2)) > 1.0)
    n = np.arange(len(cost))
    iyc, ixc = np.clip(iy, 1, 2 * r - 1), np.clip(ix, 1, 2 * r - 1)
    c0 = cost[n, iyc, ixc]
    cxm, cxp = cost[n, iyc, ixc - 1], cost[n, iyc, ixc + 1]
    cym, cyp = cost[n, iyc - 1, ixc], cost[n, iyc + 1, ixc]
    ok &= np.isfinite(cxm + cxp + cym + cyp + c0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Parabola vertex; SSD (not SAD) so that the cost is close to quadratic.
        sx = np.clip(0.5 * (cxm - cxp) / (cxm - 2 * c0 + cxp), -0.5, 0.5)
        sy = np.clip(0.5 * (cym - cyp) / (cym - 2 * c0 + cyp), -0.5, 0.5)
    sx, sy = np.where(np.isfinite(sx), sx, 0.0), np.where(np.isfinite(sy), sy, 0.0)
    disp = pi + np.stack([ix - r + sx, iy - r + sy], 1)
    return u[ok], disp[ok]


def _align(pa: _Pyramid, pb: _Pyramid) -> np.ndarray:
    """Content motion from frame a to frame b (module units, native pixels).

    Coarse: block votes on a small level give the motion of the larger part
    of the picture.  Fine: sub-pixel block matches at the working level near
    that prediction, fitted robustly.  NaN when no consistent motion is found
    (too little texture, or a scene cut where few blocks agree).
    """
    bm = len(pa.levels) - 1
    sol = _block_fit(pa.levels[bm], pb.levels[bm])
    if sol is None:
        return np.full(4, np.nan)
    sol = sol.copy()
    sol[2:] *= 2.0 ** bm
    u, v = _block_refine(pa.levels[0], pb.levels[0], sol)
    if u is None or len(u) < 6:
        return np.full(4, np.nan)
    v = u + v
    span = float(np.sqrt(np.mean(np.sum((u - u.mean(0)) ** 2, 1))))
    sol, wts = _robust_similarity(u, v, np.ones(len(u)), span, noise_floor=0.2)
    # Across a cut the matches scatter: demand a real consensus.
    if not np.all(np.isfinite(sol)) or np.count_nonzero(wts) < max(6, len(u) // 5):
        return np.full(4, np.nan)
    a_, b_, tx, ty = sol
    f = pa.factor
    t = np.array([tx, ty]) * f
    # The working picture's centre is pa.offset from the native one:
    # re-express the similarity about the native centre.
    m = np.array([[a_, b_], [-b_, a_]])
    t = t + (np.eye(2) - m) @ pa.offset
    return _to_params(a_, b_, t[0], t[1])


def global_motion_from_frames(frames: Iterable[np.ndarray]) -> np.ndarray:
    """(N, 4) global motion (module units) estimated from the pixels.

    ``frames``: (H, W) luma or (H, W, 3) RGB arrays, all the same size.
    """
    out = []
    prev = None
    for frame in frames:
        pyr = _Pyramid(frame)
        if prev is None:
            out.append(np.zeros(4))
        else:
            if pyr.native != prev.native:
                raise ValueError("all frames must have the same size")
            out.append(_align(prev, pyr))
        prev = pyr
    return np.array(out, dtype=np.float64).reshape(-1, 4)


# ---------------------------------------------------------------------------
# Top level
# ---------------------------------------------------------------------------

def estimate_global_motion(path: str | Path | None = None, frames: Iterable[np.ndarray] | None = None,
                           *, method: str = "auto", max_frames: int | None = None) -> np.ndarray:
    """(N, 4) per-frame global motion (module units) of a file or of frames.

    ``method``: "mvs" uses the decoder's motion vectors only (rows they do not
    determine stay NaN); "flow" the pixels only; "auto" the vectors where they
    determine a row and the pixels for the rest.  Row 0 is zero.
    """
    if method not in ("auto", "mvs", "flow"):
        raise ValueError(f"method must be 'auto', 'mvs' or 'flow', not {method!r}")
    if (path is None) == (frames is None):
        raise ValueError("give exactly one of path and frames")
    if frames is not None:
        if method == "mvs":
            raise ValueError("method 'mvs' needs a path: raw frames carry no motion vectors")
        return global_motion_from_frames(frames)
    if method == "flow":
        return global_motion_from_frames(y for _, y, _, _ in _decode(path, max_frames, luma=True))
    mvs, dist, width, height = _vector_motion(path, max_frames)
    params = _solve_intervals(len(mvs), _measurements(mvs, dist, width, height))
    if method == "mvs":
        return params
    missing = set(np.nonzero(np.any(~np.isfinite(params), 1))[0].tolist())
    if missing:
        prev = None
        for i, (_, y, _, _) in enumerate(_decode(path, max_frames, luma=True)):
            need = i in missing or i + 1 in missing
            pyr = _Pyramid(y) if need else None
            if i in missing and prev is not None:
                params[i] = _align(prev, pyr)
            prev = pyr
            if i >= max(missing):
                break
    if len(params):
        params[0] = 0.0
    return params


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------

def quantize(params: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Rows (module units) -> spec 5.4 model 1 records, clamped to s16.

    Raises ValueError on NaN: an unmeasured step is the caller's decision.
    """
    p = np.asarray(params, dtype=np.float64).reshape(-1, 4)
    if not np.all(np.isfinite(p)):
        raise ValueError("motion parameters contain NaN/inf (unmeasured frames)")
    q = np.rint(p / np.array([TX_UNIT, TX_UNIT, ZOOM_UNIT, ROTATION_UNIT]))
    q = np.clip(q, *_S16).astype(np.int64)
    return [tuple(int(v) for v in row) for row in q]


def dequantize(records: Sequence[Sequence[int]]) -> np.ndarray:
    """Spec 5.4 model 1 records -> (N, 4) rows in module units."""
    r = np.asarray(records, dtype=np.float64).reshape(-1, 4)
    return r * np.array([TX_UNIT, TX_UNIT, ZOOM_UNIT, ROTATION_UNIT])


# ---------------------------------------------------------------------------
# Caption
# ---------------------------------------------------------------------------

# Speed classes.  Pans/tilts are measured in picture widths per second (for
# both axes, so that a diagonal keeps one speed) to make the words independent
# of resolution.  At 640 px and 25 fps, 0.03 widths/s is 0.77 px/frame.
PAN_STILL = 0.03   # below: no pan (under 3 % of the width per second)
PAN_SLOW = 0.15    # below: "slowly" (6.7 s or more to cross the picture)
PAN_FAST = 0.5     # from here: "quickly" (2 s or less to cross the picture)
# Zoom in log2 of scale per second: 0.05 is 3.5 %/s, 0.15 is 11 %/s, 0.5 is 41 %/s.
# The still bar sits above the estimators' jitter on real footage (about
# 0.001 per frame, 0.025/s at 25 fps, on bikes.mp4).
ZOOM_STILL, ZOOM_SLOW, ZOOM_FAST = 0.05, 0.15, 0.5
# Roll in radians per second: 0.035 is 2 deg/s, 0.1 is 5.7 deg/s, 0.4 is 23 deg/s.
ROT_STILL, ROT_SLOW, ROT_FAST = 0.035, 0.1, 0.4
#: Motion is smoothed (moving median) over this many seconds before it is
#: classified, and phases shorter than MIN_PHASE_S are merged into a
#: neighbour.  Medians, not means, so that a single wild row (a scene cut
#: inside the span) cannot invent a pan.
SMOOTH_S = 0.5
MIN_PHASE_S = 0.75
MAX_PHASES = 4


def _speed_word(v: float, slow: float, fast: float) -> str:
    return "slowly" if v < slow else ("quickly" if v >= fast else "")


def _label(m: np.ndarray, fps: float, width: int) -> tuple:
    """Classify one mean motion row (module units per frame) into words."""
    if not np.all(np.isfinite(m)):
        return ()
    vx, vy = m[0] * fps / width, m[1] * fps / width
    parts = []
    speed = math.hypot(vx, vy)
    if speed >= PAN_STILL:
        # The camera moves opposite to the content: content going right
        # (tx > 0) means the camera pans left; content going down, tilts up.
        horiz = "left" if vx > 0 else "right"
        vert = "up" if vy > 0 else "down"
        ratio = abs(vy) / max(abs(vx), 1e-12)
        if ratio < math.tan(math.radians(22.5)):
            verb = f"pans {horiz}"
        elif ratio > math.tan(math.radians(67.5)):
            verb = f"tilts {vert}"
        else:
            verb = f"pans {horiz} and tilts {vert}"
        parts.append(("pan", verb, _speed_word(speed, PAN_SLOW, PAN_FAST)))
    z = m[2] * fps
    if abs(z) >= ZOOM_STILL:
        parts.append(("zoom", "zooms in" if z > 0 else "zooms out", _speed_word(abs(z), ZOOM_SLOW, ZOOM_FAST)))
    r = m[3] * fps
    if abs(r) >= ROT_STILL:
        # Content turning counter-clockwise means the camera rolls clockwise.
        parts.append(("roll", "rolls clockwise" if r > 0 else "rolls counter-clockwise",
                      _speed_word(abs(r), ROT_SLOW, ROT_FAST)))
    return tuple(parts)


def _kinds(label: tuple) -> tuple:
    return tuple(p[:2] for p in label)


def _phrase(label: tuple) -> str:
    if not label:
        return "holds still"
    words = [f"{verb} {adv}".strip() for _, verb, adv in label]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe(params: np.ndarray, fps: float, width: int, height: int) -> str:
    """A short English caption of the measured global motion.

    The rows are smoothed over SMOOTH_S seconds, classified per frame (pan /
    tilt direction, zoom, roll), cut into phases of one class (short ones
    merged away, at most MAX_PHASES), and each phase is worded from its own
    median motion.  Only global (camera-like) motion is measured,
    so a static camera reads "the camera holds still" whatever moves in
    front of it.  NaN rows (unmeasured) are skipped.  Speeds are relative
    to ``width`` on both axes (one speed for a diagonal); ``height`` is
    only checked.  Deterministic.
    """
    p = np.asarray(params, dtype=np.float64).reshape(-1, 4)
    if fps <= 0 or width <= 0 or height <= 0:
        raise ValueError("fps, width and height must be positive")
    good = np.all(np.isfinite(p), 1)
    if not np.any(good):
        return "the camera motion could not be measured"
    p, n = p[good], int(np.count_nonzero(good))
    half = max(0, int(round(SMOOTH_S * fps)) // 2)
    smooth = np.array([np.median(p[max(0, i - half):i + half + 1], 0) for i in range(n)])
    kinds = [_kinds(_label(row, fps, width)) for row in smooth]

    # Runs of frames with the same kind of motion (direction, not speed).
    runs: list[list] = []  # [start, end) pairs
    for i, k in enumerate(kinds):
        if runs and kinds[runs[-1][0]] == k:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    min_len = max(2, int(round(MIN_PHASE_S * fps)))

    def labels():
        return [_label(np.median(p[s:e], 0), fps, width) for s, e in runs]

    for _ in range(4 * n + 8):  # each pass merges at least one pair or stops
        labs = labels()
        # Neighbours that now read the same are one phase.
        same = next((j for j in range(len(runs) - 1) if _kinds(labs[j]) == _kinds(labs[j + 1])), None)
        if same is not None:
            runs[same][1] = runs[same + 1][1]
            del runs[same + 1]
            continue
        lens = [e - s for s, e in runs]
        short = min(range(len(runs)), key=lambda j: (lens[j], j)) if len(runs) > 1 else None
        if short is None or (lens[short] >= min_len and len(runs) <= MAX_PHASES):
            break
        # Fold the shortest phase into its longer neighbour.
        if short == 0:
            tgt = 1
        elif short == len(runs) - 1:
            tgt = short - 1
        else:
            tgt = short - 1 if lens[short - 1] >= lens[short + 1] else short + 1
        lo_, hi_ = sorted((short, tgt))
        runs[lo_] = [runs[lo_][0], runs[hi_][1]]
        del runs[hi_]
    labs = labels()
    if len(labs) == 1 and not labs[0]:
        return "the camera holds still"
    return "the camera " + ", then ".join(_phrase(lab) for lab in labs)
