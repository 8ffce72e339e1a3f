"""probe(): what a stream holds, as a JSON-serialisable dict (cmvc-probe --json),
and stream_to_json(): the full dump the conformance vectors are checked with."""
from __future__ import annotations

import hashlib
from fractions import Fraction

from .model import Caption, DamagedSegment, KeyframePayload, Segment, StreamHeader
from .reader import Stream, StreamReader
from .registry import (
    CaptionKind, ChunkType, Codec, ColorRange, Mode, ModelRole, MotionModel, PixelFormat,
)


def _name(enum_cls, value: int) -> str:
    try:
        return enum_cls(value).name.lower().replace("_", "-")
    except ValueError:
        return f"reserved-{value}"


def _frac(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def header_to_json(h: StreamHeader) -> dict:
    return {
        "write_version": h.write_version,
        "read_version": h.read_version,
        "width": h.width,
        "height": h.height,
        "frame_rate": _frac(h.frame_rate),
        "time_base": _frac(h.time_base),
        "frame_count": h.frame_count,
        "pixel_format": _name(PixelFormat, h.pixel_format),
        "chroma_location": h.chroma_location,
        "color_primaries": h.color_primaries,
        "transfer_characteristics": h.transfer_characteristics,
        "matrix_coefficients": h.matrix_coefficients,
        "color_range": _name(ColorRange, h.color_range),
        "encoder_name": h.encoder_name,
        "encoder_version": h.encoder_version,
        "models": [{"role": _name(ModelRole, m.role), "id": m.model_id, "sha256": m.sha256_hex}
                   for m in h.models],
    }


def _blob(data: bytes) -> dict:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _payload(p: KeyframePayload) -> dict:
    return {
        "keyframe": p.keyframe_number, "codec": _name(Codec, p.codec),
        "width": p.width, "height": p.height, "random_access": p.random_access,
        "refs": [[r.segment_index, r.keyframe_number] for r in p.refs], "data": _blob(p.data),
    }


def _caption(c: Caption) -> dict:
    return {"kind": _name(CaptionKind, c.kind), "text": c.text}


def segment_to_json(s: Segment | DamagedSegment) -> dict:
    if isinstance(s, DamagedSegment):
        return {"damaged": True, "index": s.index, "offset": s.offset,
                "error_offset": getattr(s.error, "offset", None),
                "error": type(s.error).__name__, "reason": getattr(s.error, "reason", str(s.error))}
    out = {
        "index": s.index, "first_frame": s.first_frame, "frame_count": s.frame_count,
        "mode": _name(Mode, s.mode), "scene_cut": s.scene_cut, "keyframes": list(s.keyframes),
        "payloads": [_payload(p) for p in s.payloads],
        "captions": [_caption(c) for c in s.captions],
    }
    if s.motion is not None:
        out["motion"] = {"model": _name(MotionModel, s.motion.model),
                         "values_per_record": s.motion.values_per_record,
                         "records": [list(r) for r in s.motion.records]}
    if s.generation is not None:
        g = s.generation
        out["generation"] = {"generator_model": g.generator_model, "seed": g.seed,
                             "steps": g.steps, "guidance_milli": g.guidance_milli,
                             "scheduler": g.scheduler, "params": dict(g.params)}
    if s.ancillary:
        out["ancillary"] = [{"type": a.type.decode("latin-1"), "body": a.body.hex()}
                            for a in s.ancillary]
    return out


def stream_to_json(stream: Stream) -> dict:
    """The full dump of a stream (the expected output of conformance vectors)."""
    return {
        "header": header_to_json(stream.header),
        "dictionaries": [{"id": d.dictionary_id, **_blob(d.data)}
                         for d in stream.dictionaries.values()],
        "segments": [segment_to_json(s) for s in stream.segments],
        "index": None if stream.index is None else [
            {"offset": e.offset, "first_frame": e.first_frame, "frame_count": e.frame_count,
             "rap_segment": e.rap_segment} for e in stream.index],
        "ancillary": [{"type": a.type.decode("latin-1"), "body": a.body.hex()}
                      for a in stream.ancillary],
        "size": stream.size,
        "trailing_bytes": stream.trailing_bytes,
    }


_KIND_OF_CHUNK = {
    ChunkType.KFRM.value.decode(): "keyframes", ChunkType.CAPT.value.decode(): "captions",
    ChunkType.MOTN.value.decode(): "motion", ChunkType.GENP.value.decode(): "generation",
    ChunkType.SIDX.value.decode(): "index",
}


def probe(source, *, scan: bool = True) -> dict:
    """Header, models, segments and sizes.

    ``scan=False`` reads only the header and the seek index (found through the
    footer), so it costs the same for 10 or 10,000 segments; it falls back to
    a scan when the stream has no usable index.
    """
    with StreamReader(source, errors="report") as r:
        out = {"format": "cmvc", "header": header_to_json(r.header)}
        index = None if scan else r.index()
        if index is not None:
            out["segments"] = [{"index": i, "offset": e.offset, "first_frame": e.first_frame,
                                "frame_count": e.frame_count, "rap_segment": e.rap_segment}
                               for i, e in enumerate(index)]
            out["frames"] = sum(e.frame_count for e in index)
            out["indexed"] = True
            return _with_rate(out, r.header, None)
        segments = []
        for s in r.segments():
            j = segment_to_json(s)
            if not j.get("damaged"):
                for p in j["payloads"]:
                    p["data"] = p["data"]["size"]
                j["captions"] = len(j["captions"])
                j.pop("motion", None)
            segments.append(j)
        out["segments"] = segments
        out["frames"] = sum(s.get("frame_count", 0) for s in segments)
        out["indexed"] = r.stored_index is not None
        out["damaged_segments"] = sum(1 for s in segments if s.get("damaged"))
        out["warnings"] = [f"{type(w).__name__}: {w}" for w in r.warnings]
        out["trailing_bytes"] = r.trailing_bytes
        by_kind: dict[str, int] = {}
        for name, n in r.chunk_bytes.items():
            kind = _KIND_OF_CHUNK.get(name, "container")
            by_kind[kind] = by_kind.get(kind, 0) + n
        by_kind["container"] = by_kind.get("container", 0) + 8  # the signature
        out["bytes"] = dict(sorted(by_kind.items()))
        out["size"] = sum(by_kind.values())
        return _with_rate(out, r.header, out["size"])


def _with_rate(out: dict, h: StreamHeader, size: int | None) -> dict:
    frames = out["frames"]
    if frames and size is not None:
        seconds = frames / h.frame_rate
        out["duration"] = float(seconds)
        out["bitrate_kbps"] = round(size * 8 / float(seconds) / 1000, 3)
        out["bpp"] = round(size * 8 / (frames * h.width * h.height), 6)
    return out
