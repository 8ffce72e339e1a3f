"""The CMVC encoder: a clip of RGB frames -> a CMVC v1 stream (IT2V segments).

Steps (arXiv 2408.08093, adapted to what runs offline):

1. per-frame features and scene cuts (``analysis.features`` / ``analysis.keyframes``);
2. per-frame global motion (``analysis.motion``), quantized into MOTN and
   described in words for the motion caption;
3. segments: cut at scene cuts and every ``segment_seconds``; each starts on
   a keyframe and gets a content caption and a motion caption;
4. keyframes: the paper's similarity walk, with the threshold and the
   keyframe codec's quality chosen by rate control when a target is given,
   and the largest gap between keyframes chosen by measuring candidates
   (``perceptual.estimate``);
5. keyframe payloads: the keyframes of consecutive segments coded as one
   predicted track (AV1 by default), with a random-access point at scene
   cuts and every ``rap_seconds``.
"""
from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from cmvc_format import (
    Caption, CaptionKind, Codec, KeyframePayload, KeyframeRefId, Mode, ModelRef,
    ModelRole, Motion, MotionModel, Segment, StreamHeader, StreamWriter, read_stream,
)

from . import __version__
from .keyframe_codecs import DEFAULT as DEFAULT_KEYFRAME_CODEC
from .keyframe_codecs import DECIDING, make_encoder, quality_scale
from .scaling import resize_rgb
from .video_io import Clip


@dataclass
class EncodeOptions:
    keyframe_codec: str = DEFAULT_KEYFRAME_CODEC
    strategy: str = "similarity"        # similarity | uniform | mse
    threshold: float | None = None      # keyframe threshold (similarity/mse); None = default or rate control
    interval: int | None = None         # uniform strategy spacing, frames
    min_gap: int = 1
    max_gap_seconds: float | None = 0.25
    quality: float | None = None        # keyframe codec quality (its own scale); None = default or rate control
    target_kbps: float | None = None
    keyframe_scale: float | None = None  # keyframes coded at this fraction of the size; None = 1 or rate control
    segment_seconds: float = 5.0
    rap_seconds: float = 10.0
    features: str = "analytic"
    captioner: str = "analytic"
    motion: str = "auto"
    generator: str = "rife"             # the interpolator the stream names for decoding
    gap_rule: str = "auto"              # rate control's choice of keyframe spacing: auto | lpips | crf
    finalists: int = 1                  # lpips rule: spacings (best trial scores) given a final encode
    quiet: bool = True


GAP_RULES = ("auto", "lpips", "crf")


SCALES = (1.0, 0.5, 0.25)


@dataclass
class Plan:
    """Everything about the stream that does not depend on rate."""

    segments: list[tuple[int, int]]     # (first_frame, end) per segment
    cuts: set[int]
    features: np.ndarray
    motion: np.ndarray                  # (N, 4) tx, ty, log2 zoom, rotation (CCW, radians)
    captions: list[list[Caption]]
    motion_records: list[list[tuple[int, int, int, int]]]
    models: list[ModelRef]
    interpolator_index: int | None
    frames: np.ndarray                  # (N, H, W, 3): stacked once, for the mse strategy
    report: dict = field(default_factory=dict)


@dataclass
class RatePoint:
    threshold: float | None
    quality: float
    scale: float
    keyframes: list[int]
    stream: bytes
    options: EncodeOptions | None = None  # the options it was made with

    @property
    def size(self) -> int:
        return len(self.stream)


def log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr)


# --- analysis (rate-independent) -------------------------------------------------

def analyse(clip: Clip, opts: EncodeOptions) -> Plan:
    from .analysis.features import get_feature_extractor
    from .analysis.keyframes import detect_scene_cuts
    from .analysis.motion import describe, estimate_global_motion, quantize
    from .captioners import get_captioner

    n = len(clip.frames)
    frames = np.stack(clip.frames)
    t0 = time.perf_counter()
    extractor = get_feature_extractor(opts.features)
    feats = np.asarray(extractor(frames), dtype=np.float32)
    cuts = detect_scene_cuts(feats) if n > 1 else set()
    t_feat = time.perf_counter() - t0

    t0 = time.perf_counter()
    # Codec motion vectors belong to the input's own frames: once the frames
    # were resampled to a constant rate they no longer line up, so use flow.
    method = opts.motion
    if method == "auto" and (clip.vfr_mapped or not clip.source):
        method = "flow"
    if method == "flow":
        motion = estimate_global_motion(frames=frames, method="flow")
    else:
        motion = estimate_global_motion(path=clip.source, method=method, max_frames=n)
    motion = np.nan_to_num(np.asarray(motion, dtype=np.float64))
    t_motion = time.perf_counter() - t0

    # Segments: scene cuts and every segment_seconds.
    seg_len = max(1, round(float(clip.fps) * opts.segment_seconds))
    starts = {0} | {c for c in cuts if 0 < c < n}
    s = 0
    for c in sorted(starts | {n}):
        while c - s > seg_len:
            s += seg_len
            starts.add(s)
        s = c
    bounds = sorted(starts) + [n]
    segments = [(a, b) for a, b in zip(bounds, bounds[1:])]

    t0 = time.perf_counter()
    captioner = get_captioner(opts.captioner)
    fps = float(clip.fps)
    captions, records = [], []
    for i, (a, b) in enumerate(segments):
        seg_motion = motion[a:b].copy()
        if a > 0 and a in cuts:
            seg_motion[0] = 0.0  # no motion across a cut
        motion_text = describe(seg_motion, fps, clip.width, clip.height)
        # A few frames spread over the segment show the captioner what it holds.
        picks = sorted({a, (a + b - 1) // 2, b - 1})
        # The motion caption is stored as its own CAPT (kind 1), so it is not
        # passed to the captioner: it would be coded twice.
        context = {"scene_cut": a in cuts and a > 0,
                   "segment_index": i, "fps": fps, "duration_s": (b - a) / fps}
        content = captioner.caption(frames[picks], context=context)
        captions.append([Caption(CaptionKind.CONTENT, content), Caption(CaptionKind.MOTION, motion_text)])
        records.append(quantize(simplify_motion(seg_motion)))
    t_caption = time.perf_counter() - t0

    models, interp = [], None
    if opts.generator == "rife":
        from .weights import RIFE
        interp = len(models)
        models.append(ModelRef(ModelRole.INTERPOLATOR, RIFE.model_id, bytes.fromhex(RIFE.sha256)))
    for role, component in ((ModelRole.CAPTIONER, captioner), (ModelRole.KEYFRAME_SELECTOR, extractor)):
        if getattr(component, "sha256", None):
            models.append(ModelRef(role, component.model_id, bytes.fromhex(component.sha256)))

    report = {"features": extractor.model_id, "captioner": captioner.model_id,
              "motion_method": method, "scene_cuts": sorted(cuts), "segments": len(segments),
              "seconds": {"features": round(t_feat, 3), "motion": round(t_motion, 3),
                          "captions": round(t_caption, 3)}}
    return Plan(segments, cuts, feats, motion, captions, records, models, interp, frames, report)


#: Motion below these magnitudes is estimation noise for a still camera
#: (tx/ty px, log2 zoom, radians); it is coded as zero.
MOTION_DEADZONE = (0.5, 0.002, 0.001)
#: Coarser steps than the spec's units (1/16 px, 2^-12, 2^-13 rad): still
#: exact multiples of them, so the records stay conformant, but runs of equal
#: values compress to a few bytes.  Per-frame motion at 1/4 px is far finer
#: than pre-alignment (which acts above ~12 px) or the motion caption need.
MOTION_STEP = (0.25, 2.0 ** -10, 2.0 ** -11)


def simplify_motion(params: np.ndarray) -> np.ndarray:
    """Deadzone and coarse rounding of (N, 4) motion before quantization.

    Measured on carphone (176x144, 120 frames, still camera): the motion
    payload fell from 500 bytes, 11% of a 9.3 kbps stream, to a few dozen.
    """
    p = np.array(params, dtype=np.float64)
    for cols, dead, step in (((0, 1), MOTION_DEADZONE[0], MOTION_STEP[0]),
                             ((2,), MOTION_DEADZONE[1], MOTION_STEP[1]),
                             ((3,), MOTION_DEADZONE[2], MOTION_STEP[2])):
        for c in cols:
            v = p[:, c]
            v[np.abs(v) < dead] = 0.0
            p[:, c] = np.round(v / step) * step
    return p


# --- keyframes and payloads ------------------------------------------------------------

def choose_keyframes(clip: Clip, plan: Plan, opts: EncodeOptions, threshold: float | None) -> list[int]:
    from .analysis.keyframes import find_keyframes

    n = len(clip.frames)
    max_gap = None
    if opts.max_gap_seconds:
        max_gap = max(1, round(float(clip.fps) * opts.max_gap_seconds))
    kw = dict(threshold=threshold, min_gap=opts.min_gap, max_gap=max_gap)
    if opts.strategy == "uniform":
        kw["interval"] = opts.interval or max(1, round(float(clip.fps)))
    if opts.strategy == "mse":  # compares pixels; the features still flag the cuts
        kf = set(find_keyframes(plan.frames, "mse", features=plan.features, **kw).indices)
    else:
        kf = set(find_keyframes(plan.features, opts.strategy, **kw).indices)
    # Every segment starts on a keyframe; no interpolation across a cut.
    kf |= {a for a, _ in plan.segments} | {c - 1 for c in plan.cuts if c > 0} | {n - 1}
    return sorted(kf)


def _random_access(plan: Plan, clip: Clip, opts: EncodeOptions) -> set[int]:
    """Segments whose first keyframe starts a new track sequence."""
    rap_every = float(clip.fps) * opts.rap_seconds
    raps, last = set(), None
    for i, (a, _) in enumerate(plan.segments):
        if last is None or a in plan.cuts or a - last >= rap_every:
            raps.add(i)
            last = a
    return raps


def build_stream(clip: Clip, plan: Plan, opts: EncodeOptions, keyframes: list[int],
                 quality: float, scale: float, effort: str = "final") -> bytes:
    w, h = clip.width, clip.height
    cw, ch = max(1, round(w * scale)), max(1, round(h * scale))
    enc = make_encoder(opts.keyframe_codec, cw, ch, clip.colors, quality, effort=effort)
    raps = _random_access(plan, clip, opts)
    header = StreamHeader(
        width=w, height=h, frame_rate=clip.fps, time_base=clip.time_base,
        frame_count=len(clip.frames), pixel_format=0, chroma_location=clip.colors.chroma_location,
        color_primaries=clip.colors.primaries, transfer_characteristics=clip.colors.transfer,
        matrix_coefficients=clip.colors.matrix, color_range=clip.colors.range,
        encoder_name="cmvc-mux", encoder_version=__version__, models=list(plan.models))
    # Which keyframes start a random-access group: the track's first, the
    # first of a segment chosen by _random_access, and every one of an
    # intra-only codec.  The encoder then codes a whole group at a time.
    entries = []  # (segment index, keyframe number in segment, frame index, random access)
    k_iter = iter(keyframes)
    k = next(k_iter, None)
    for si, (a, b) in enumerate(plan.segments):
        number = 0
        while k is not None and k < b:
            rap = not entries or (number == 0 and si in raps) or not enc.predictive
            entries.append((si, number, k, rap))
            number += 1
            k = next(k_iter, None)
    data: list[tuple[int, bytes]] = []  # (codec id, payload data) per entry
    try:
        starts = [i for i, e in enumerate(entries) if e[3]] + [len(entries)]
        for g0, g1 in zip(starts, starts[1:]):
            pics = [clip.frames[e[2]] if scale == 1.0 else resize_rgb(clip.frames[e[2]], cw, ch)
                    for e in entries[g0:g1]]
            data += enc.code_group(pics)
    finally:
        enc.close()
    header.models.extend(enc.models)  # known once every group is coded (av1-auto)
    buf = io.BytesIO()
    writer = StreamWriter(buf, header)
    prev: KeyframeRefId | None = None
    i = 0  # entries are in segment order
    for si, (a, b) in enumerate(plan.segments):
        offsets, payloads = [], []
        while i < len(entries) and entries[i][0] == si:
            _, number, k, rap = entries[i]
            payloads.append(KeyframePayload(number, data[i][0], cw, ch, data[i][1],
                                            random_access=rap, refs=[] if rap else [prev]))
            offsets.append(k - a)
            prev = KeyframeRefId(si, number)
            i += 1
        # No GENP: an IT2V decode needs only the interpolator, which the
        # model table already names (a GENP would cost ~29 bytes a segment).
        writer.write_segment(Segment(
            index=si, first_frame=a, frame_count=b - a, mode=Mode.IT2V, keyframes=offsets,
            scene_cut=a in plan.cuts and a > 0, payloads=payloads, captions=plan.captions[si],
            motion=Motion(MotionModel.GLOBAL_SIMILARITY, plan.motion_records[si])))
    writer.close()
    return buf.getvalue()


# --- rate control ----------------------------------------------------------------------

def _thresholds() -> list[float]:
    """Candidate similarity thresholds, many keyframes -> few."""
    return [round(0.002 * 1.35 ** i, 5) for i in range(24)]


#: How far up the ladder the kept (slower, smaller) encode may climb from the
#: trial encodes' choice: 12 quarter crf steps; preset 4 codes keyframes
#: 9-11% smaller than preset 8, about 1.5 crf.
FINAL_RUNGS = 12


#: The lpips rule's spacings: max gaps (frames) from half the starting gap
#: upwards, each about 1.25x the last (0.125 s at 30 fps: 4, 5, 6, 8, 10, 12,
#: 15, ... frames), then no cap.  Half: on seven of the ten ASL clips a
#: 0.2 s gap beat the default start of 0.25 s (issue 3, fifth session).
GAP_STEP = 1.25
#: The lpips rule stops going sparser after this many spacings in a row that
#: do not beat the best so far.  A spacing coded at the same quality as the
#: one before does not count: with a coarse quality scale (lic's 8 levels)
#: sparser keyframes stay at one level for several spacings, each a little
#: worse, before the next level fits; on carphone the walk stopped at lic
#: level 2 before reaching the spacings that fit level 3.
PATIENCE = 2


def gap_ladder(fps: float, frames: int, start_seconds: float | None) -> list[int | None]:
    """Candidate max gaps in frames, dense to sparse, ending with None (no cap)."""
    if start_seconds is None:
        return [None]
    f, out = max(1, round(fps * start_seconds / 2)), []
    while f < frames - 1:
        out.append(f)
        f = max(f + 1, round(f * GAP_STEP))
    return out + [None]


def spacing_estimator(clip: Clip, plan: Plan, opts: EncodeOptions):
    """(the lpips rule's estimator, None) or (None, why the crf rule is used)."""
    if opts.gap_rule not in GAP_RULES:
        raise ValueError(f"gap_rule must be one of {GAP_RULES}, not {opts.gap_rule!r}")
    if opts.gap_rule == "crf":
        return None, "asked for (--gap-rule crf)"
    from .weights import WeightsUnavailableError
    try:
        import torch  # noqa: F401 - the lpips rule needs it; auto falls back without
        from .generators import get_generator
        from .perceptual.estimate import MidpointEstimator
        from .perceptual.weights import WeightsUnavailable
    except ImportError as exc:
        if opts.gap_rule == "lpips":
            raise
        return None, f"no torch ({exc})"
    try:
        generator = get_generator(opts.generator)
        motion = {a + i: rec for (a, _), recs in zip(plan.segments, plan.motion_records)
                  for i, rec in enumerate(recs)}
        return MidpointEstimator(clip.frames, motion, plan.cuts, generator), None
    except (WeightsUnavailable, WeightsUnavailableError) as exc:
        if opts.gap_rule == "lpips":
            raise
        return None, "weights unavailable: " + str(exc).splitlines()[0]


def encode_at_rate(clip: Clip, plan: Plan, opts: EncodeOptions) -> tuple[RatePoint, dict]:
    """Pick keyframe spacing, codec quality and keyframe scale to land near
    ``opts.target_kbps``; return the stream and a report of the choice.

    For each keyframe scale, largest first: the keyframe spacing, then within
    it the densest similarity threshold that fits at a mid quality, then the
    codec quality for the last +-10%.  Keyframes are coded smaller only when
    no spacing fits at full size (halving the size cost far more LPIPS than
    sparser keyframes).

    The spacing (the largest gap allowed between keyframes) is chosen by one
    of two rules:

    ``lpips`` (``auto`` when torch and the LPIPS weights are there): every
      spacing of ``gap_ladder`` that fits the rate, dense to sparse, is
      trial-encoded and scored by ``perceptual.estimate`` (keyframes plus one
      generated midpoint per gap); the lowest estimate wins, and the walk stops
      after ``PATIENCE`` spacings that do not beat it.  Only the winner gets
      the slow final encode: on the ASL clip hungry, trial and final
      encodes ranked its four spacings the same, and scoring every final
      encode made the whole encode 5-7x slower than the crf rule.  With
      ``finalists`` > 1 that many of the best trial scores get a final
      encode each, scored in turn, and the best of those is kept (on some
      clips trial scores picked sparser keyframes than final scores had).
    ``crf`` (the fallback): from ``max_gap_seconds``, the gap doubles while
      doubling it lets the keyframes be coded more than the codec's
      ``density_cost`` finer, and whenever the rate cannot be met otherwise.
    """
    target = opts.target_kbps * 1000 / 8 * clip.duration
    within = target * 1.10  # "lands near": up to 10% over
    cache: dict = {}
    keyframes: dict = {}  # (gap, threshold) -> keyframes: independent of quality and scale
    fps = float(clip.fps)

    def point(o, th, q, sc, effort="search") -> RatePoint:
        if effort == "score" and opts.keyframe_codec not in DECIDING:
            effort = "search"  # nothing left to decide: the same encode
        key = (o.max_gap_seconds, th, q, sc, effort)
        if key not in cache:
            kf = keyframes.get(key[:2])
            if kf is None:
                kf = keyframes[key[:2]] = choose_keyframes(clip, plan, o, th)
            cache[key] = RatePoint(th, q, sc, kf, build_stream(clip, plan, o, kf, q, sc, effort), o)
        return cache[key]

    fixed_quality = opts.quality
    scale_of_codec = quality_scale(opts.keyframe_codec)
    ladder = scale_of_codec.ladder  # the rate controller's search space, best quality first
    q_mid = fixed_quality if fixed_quality is not None else scale_of_codec.default

    def best_fitting(lo: int, hi: int, make) -> RatePoint:
        """make(q) at the best quality of ladder[lo:hi + 1] whose size fits
        (ladder[hi] if none does)."""
        while lo < hi:
            mid = (lo + hi) // 2
            if make(ladder[mid]).size <= target:
                hi = mid
            else:
                lo = mid + 1
        return make(ladder[hi])

    def fit(gap_seconds, sc) -> RatePoint:
        o = replace(opts, max_gap_seconds=gap_seconds)
        if o.strategy == "similarity" and o.threshold is None:
            ths = _thresholds()
            lo, hi, best = 0, len(ths) - 1, len(ths) - 1
            while lo <= hi:  # densest keyframe set that fits at q_mid
                mid = (lo + hi) // 2
                if point(o, ths[mid], q_mid, sc).size <= target:
                    best, hi = mid, mid - 1
                else:
                    lo = mid + 1
            th = ths[best]
        else:
            th = o.threshold
        if fixed_quality is not None:
            return point(o, th, fixed_quality, sc)
        return best_fitting(0, len(ladder) - 1, lambda q: point(o, th, q, sc))

    def finish(trial: RatePoint) -> RatePoint:
        """The kept encode: slower and smaller than the trial ones, so spend
        the difference on quality while it still fits."""
        o = trial.options
        final = point(o, trial.threshold, trial.quality, trial.scale, "final")
        if fixed_quality is None and final.size <= target:
            # Best rung within FINAL_RUNGS above the trial's that still fits
            # (the trial's fits, so the search never goes below it).
            rung = ladder.index(trial.quality)
            final = best_fitting(max(0, rung - FINAL_RUNGS), rung,
                                 lambda q: point(o, trial.threshold, q, trial.scale, "final"))
        return final

    estimator, why_crf = spacing_estimator(clip, plan, opts)
    info: dict = {"gap_rule": "lpips" if estimator else "crf"}
    if why_crf:
        info["gap_rule_reason"] = why_crf
    scales = (opts.keyframe_scale,) if opts.keyframe_scale else SCALES
    chosen, finished = None, False
    if estimator is not None:
        spacings = [None if f is None else f / fps
                    for f in gap_ladder(fps, len(clip.frames), opts.max_gap_seconds)]
        tried = info["candidates"] = []
        for sc in scales:
            chosen = fit(spacings[-1], sc)
            if chosen.size > within:
                continue  # nothing fits at this scale
            lo, hi = 0, len(spacings) - 1
            while lo < hi:  # the densest spacing that fits (sparser is smaller)
                mid = (lo + hi) // 2
                if fit(spacings[mid], sc).size <= within:
                    hi = mid
                else:
                    lo = mid + 1
            best, worse, scoring, scored = None, 0, 0.0, []
            for gap in spacings[lo:]:
                cand = fit(gap, sc)
                if cand.size > within:
                    continue
                if scored and (cand.keyframes, cand.quality) == (scored[-1][2].keyframes, scored[-1][2].quality):
                    break  # the cap no longer binds: every sparser spacing codes this same stream
                t = time.perf_counter()
                # Scored with its decisions made (av1-auto: which groups keep
                # the network); sized without them (plain av1, 7 bytes a
                # restored keyframe smaller).
                est = estimator(point(cand.options, cand.threshold, cand.quality, cand.scale,
                                      "score").stream)
                scoring += time.perf_counter() - t
                tried.append({"max_gap_frames": None if gap is None else round(gap * fps),
                              "keyframe_scale": sc, "keyframes": len(cand.keyframes),
                              "quality": cand.quality, "bytes": cand.size, "lpips_estimate": est.lpips})
                scored.append((est.lpips, len(scored), cand, tried[-1]))
                log(f"  spacing {tried[-1]['max_gap_frames'] or 'uncapped'} frames: "
                    f"{len(cand.keyframes)} keyframes, {cand.size} bytes, LPIPS estimate {est.lpips:.4f}",
                    opts.quiet)
                if best is None or est.lpips < best:
                    best, worse = est.lpips, 0
                elif len(scored) < 2 or scored[-2][2].quality != cand.quality:
                    worse += 1
                    if worse >= PATIENCE:
                        break
            # The best trial scores get the final encode; with more than one
            # finalist the final encodes are scored too and the best is kept
            # (trial and final encodes need not rank spacings alike).
            finals = []
            for _, _, cand, entry in sorted(scored, key=lambda x: x[:2])[:max(1, opts.finalists)]:
                final = finish(cand)
                t = time.perf_counter()
                est = estimator(final.stream)
                scoring += time.perf_counter() - t
                finals.append((est.lpips, len(finals), final, entry))
                log(f"  final encode at {entry['max_gap_frames'] or 'uncapped'} frames: "
                    f"{final.size} bytes, LPIPS estimate {est.lpips:.4f}", opts.quiet)
            kept_est, _, chosen, entry = min(finals, key=lambda x: x[:2])
            finished = True
            info["scoring_seconds"] = round(scoring, 1)  # RIFE + LPIPS
            if len(finals) > 1:
                info["finalists"] = [{"max_gap_frames": e["max_gap_frames"], "quality": f.quality,
                                      "bytes": f.size, "lpips_estimate": v} for v, _, f, e in finals]
            info["kept"] = {"max_gap_frames": entry["max_gap_frames"], "quality": chosen.quality,
                            "bytes": chosen.size, "lpips_estimate": kept_est}
            log(f"  kept: final encode {chosen.size} bytes, LPIPS estimate {kept_est:.4f}", opts.quiet)
            break
    else:
        gaps = [opts.max_gap_seconds]
        while gaps[-1] is not None and gaps[-1] < clip.duration:
            gaps.append(gaps[-1] * 2)
        if gaps[-1] is not None:
            gaps.append(None)
        density_cost = scale_of_codec.density_cost if fixed_quality is None else None
        for sc in scales:
            for i, gap in enumerate(gaps):
                chosen = fit(gap, sc)
                if chosen.size <= within:
                    break
            if chosen.size <= within:
                # Sparser while density costs too much quality (ladder index:
                # higher is coarser, one rung per scale step).
                while density_cost is not None and i + 1 < len(gaps):
                    sparser = fit(gaps[i + 1], sc)
                    if (sparser.size > within or ladder.index(chosen.quality)
                            - ladder.index(sparser.quality) <= density_cost / scale_of_codec.step):
                        break
                    chosen, i = sparser, i + 1
                break
    if not finished:
        chosen = finish(chosen)
    return chosen, info


def group_codecs(stream: bytes) -> dict[str, int]:
    """How many random-access groups of the stream use each keyframe codec."""
    counts: dict[str, int] = {}
    for seg in read_stream(stream).segments:
        for p in seg.payloads:
            if p.random_access:
                name = Codec(p.codec).name.lower().replace("_", "-")
                counts[name] = counts.get(name, 0) + 1
    return counts


def keyframe_codec_fallback(opts: EncodeOptions) -> str | None:
    """Why av1-auto cannot decide here (no torch, no LPIPS weights), or None.
    Like the auto gap rule, it then codes plain av1 and the report says why."""
    if opts.keyframe_codec != "av1-auto":
        return None
    from .perceptual.weights import WeightsUnavailable
    try:
        from .keyframe_codecs.av1auto import load_decision_networks
        load_decision_networks()
    except ImportError as exc:
        return f"no torch ({exc})"
    except WeightsUnavailable as exc:
        return "weights unavailable: " + str(exc).splitlines()[0]
    return None


def encode(clip: Clip, opts: EncodeOptions) -> tuple[bytes, dict]:
    """The CMVC stream of a clip, and a report of what was chosen."""
    t0 = time.perf_counter()
    codec_fallback = keyframe_codec_fallback(opts)
    if codec_fallback:
        log(f"av1-auto codes plain av1: {codec_fallback}", opts.quiet)
        opts = replace(opts, keyframe_codec="av1")
    log(f"analysing {len(clip.frames)} frames ({clip.width}x{clip.height} @ "
        f"{float(clip.fps):.3f} fps)…", opts.quiet)
    plan = analyse(clip, opts)
    log(f"{len(plan.segments)} segments, {len(plan.cuts)} scene cuts; coding keyframes…", opts.quiet)
    rate_report = None
    if opts.target_kbps:
        point, rate_report = encode_at_rate(clip, plan, opts)
    else:
        th = opts.threshold
        kf = choose_keyframes(clip, plan, opts, th)
        q = opts.quality if opts.quality is not None else quality_scale(opts.keyframe_codec).default
        sc = opts.keyframe_scale or 1.0
        point = RatePoint(th, q, sc, kf, build_stream(clip, plan, opts, kf, q, sc))
    seconds = time.perf_counter() - t0
    gap = (point.options or opts).max_gap_seconds
    kbps = point.size * 8 / clip.duration / 1000
    report = dict(plan.report)
    report.update({
        "frames": len(clip.frames), "width": clip.width, "height": clip.height,
        "fps": float(clip.fps), "keyframes": len(point.keyframes), "quality": point.quality,
        "keyframe_scale": point.scale, "threshold": point.threshold,
        "max_gap_seconds": None if gap is None else round(gap, 4),
        "max_gap_frames": None if gap is None else max(1, round(float(clip.fps) * gap)),
        "bytes": point.size,
        "kbps": round(kbps, 3), "target_kbps": opts.target_kbps,
        "bpp": round(point.size * 8 / (len(clip.frames) * clip.width * clip.height), 6),
        "encode_seconds": round(seconds, 3),
        "encode_fps": round(len(clip.frames) / seconds, 3) if seconds else None,
    })
    report["keyframe_codec"] = opts.keyframe_codec
    if codec_fallback:
        report["keyframe_codec_reason"] = codec_fallback
    if opts.keyframe_codec in DECIDING:
        report["keyframe_groups"] = group_codecs(point.stream)
    if rate_report is not None:
        report["rate_control"] = rate_report
    if opts.target_kbps and point.size > opts.target_kbps * 1000 / 8 * clip.duration * 1.10:
        report["warning"] = (f"target {opts.target_kbps} kbps is below what this clip can reach "
                             f"(lowest: {kbps:.2f} kbps)")
    return point.stream, report

