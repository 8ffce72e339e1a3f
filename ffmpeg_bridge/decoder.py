"""The CMVC decoder: a stream -> every frame, in order, at the stream's size.

IT2V: decode the keyframe track (restarting at random-access payloads), scale
keyframes to the stream's size, and generate the frames between consecutive
keyframes with the interpolator (``--generator``).  No interpolation across a
scene cut: the frames before a cut hold the last keyframe of the old scene.

Damage never stops the decode: a segment that cannot be read or whose
keyframes do not decode is reported, its frames hold the last good picture
(grey if there is none yet), and decoding resumes at the next segment that
can be decoded (the next random-access point for a predicted track).

TT2V segments need a text-to-video model, which this version does not have:
they are refused with a clear error, never faked.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from cmvc_format import (
    CMVCError, DamagedSegment, Mode, ModelRole, MotionModel, PayloadError,
    StreamHeader, StreamReader,
)

from .colors import ColorSpec
from .keyframe_codecs import make_decoder
from .scaling import resize_rgb

GENERATORS = ("rife", "blend", "hold")


class DecodeError(Exception):
    """The stream cannot be decoded by this decoder (not a damaged segment)."""


@dataclass
class DecodeReport:
    frames: int = 0
    segments: int = 0
    damaged: list[str] = field(default_factory=list)
    generator: str = ""


def colors_of(h: StreamHeader) -> ColorSpec:
    return ColorSpec(matrix=h.matrix_coefficients, primaries=h.color_primaries,
                     transfer=h.transfer_characteristics, range=h.color_range,
                     chroma_location=h.chroma_location)


def _generator_for(header: StreamHeader, name: str | None, device: str):
    """The interpolator: the one named on the command line, else the stream's."""
    from .generators import get_generator
    from .weights import RIFE

    named = header.model(ModelRole.INTERPOLATOR)
    if name is None:
        if named is None or named.model_id == RIFE.model_id:
            name = "rife"
        else:
            raise DecodeError(f"the stream's interpolator {named.model_id!r} is unknown to this "
                              f"decoder; choose one with --generator {{{','.join(GENERATORS)}}}")
    if name not in GENERATORS:
        raise DecodeError(f"unknown generator {name!r}; choose from {', '.join(GENERATORS)}")
    if name == "rife":
        if named is not None and named.model_id == RIFE.model_id and named.sha256_hex != RIFE.sha256:
            raise DecodeError(f"the stream needs {named.model_id} weights with SHA-256 "
                              f"{named.sha256_hex}; this decoder has {RIFE.sha256}")
        return name, get_generator("rife", device=device)
    return name, get_generator(name)


def motion_steps(motion: dict[int, tuple], a: int, b: int):
    """Generator motion steps for frames a -> b, or None if not all known.

    Stream records (spec 5.4) are tx, ty in 1/16 px, log2 zoom in 1/4096 and
    rotation in 2^-13 rad counter-clockwise; the generators take pixels, a
    plain zoom factor and counter-clockwise radians.
    """
    out = []
    for f in range(a + 1, b + 1):
        rec = motion.get(f)
        if rec is None:
            return None
        tx, ty, z, r = rec
        out.append((tx / 16.0, ty / 16.0, 2.0 ** (z / 4096.0), r / 8192.0))
    return out


def decode_keyframes(source) -> list[tuple[int, np.ndarray]]:
    """(frame index, picture at the stream's size) of every keyframe, in order.

    For the encoder, which checks its own streams: any damage raises
    ``DecodeError`` instead of being concealed.
    """
    reader = StreamReader(source, errors="raise")
    header = reader.header
    colors = colors_of(header)
    decoders: dict[int, object] = {}
    out = []
    with reader:
        for seg in reader.segments():
            for p in sorted(seg.payloads, key=lambda p: p.keyframe_number):
                dec = decoders.get(p.codec)
                if dec is None:
                    dec = decoders[p.codec] = make_decoder(p.codec, colors)
                if p.random_access:
                    dec.reset()
                try:
                    img = dec.decode(p)
                except PayloadError as exc:
                    raise DecodeError(f"segment {seg.index}: {getattr(exc, 'reason', exc)}") from exc
                if img.shape[:2] != (header.height, header.width):
                    img = resize_rgb(img, header.width, header.height)
                out.append((seg.first_frame + seg.keyframes[p.keyframe_number], img))
    return out


def decode(source, *, generator: str | None = None, device: str = "cpu",
           on_damage: Callable[[str], None] | None = None,
           report: DecodeReport | None = None) -> tuple[StreamHeader, Iterator[np.ndarray]]:
    """Open a stream; return its header and an iterator over all its frames."""
    reader = StreamReader(source, errors="report")
    header = reader.header
    # Refuse what cannot be decoded before the first frame goes out (a pipe
    # cannot take back frames already written).
    for seg in reader.segments():
        if not isinstance(seg, DamagedSegment) and seg.mode == Mode.TT2V:
            raise DecodeError(
                f"segment {seg.index} is TT2V: it needs a text-to-video model, and this "
                f"decoder has none (only IT2V segments decode in this version)")
    colors = colors_of(header)
    gen_name, gen = _generator_for(header, generator, device)
    report = report if report is not None else DecodeReport()
    report.generator = gen_name

    def damage(msg: str) -> None:
        report.damaged.append(msg)
        if on_damage:
            on_damage(msg)

    def frames() -> Iterator[np.ndarray]:
        w, h = header.width, header.height
        grey = np.full((h, w, 3), 128, np.uint8)
        decoders: dict[int, object] = {}
        motion: dict[int, tuple] = {}
        last_frame, last_img = -1, None   # the last keyframe emitted, and its picture
        emitted = 0
        broken_track = False              # a predicted payload lost its reference
        gap_since_anchor = False          # damage between last anchor and the next one
        known_end = 0                     # end of the last segment read
        next_start = 0                    # where the next segment should start

        def fill(upto: int, hold_img) -> Iterator[np.ndarray]:
            nonlocal emitted
            img = hold_img if hold_img is not None else grey
            while emitted < upto:
                emitted += 1
                yield img

        with reader:
            for seg in reader.segments():
                if isinstance(seg, DamagedSegment):
                    where = f"segment {seg.index}" if seg.index is not None else "a segment"
                    damage(f"{where} at offset {seg.offset} is damaged: {seg.error}")
                    gap_since_anchor = True
                    broken_track = True
                    continue
                report.segments += 1
                if seg.first_frame != next_start:  # frames missing (or repeated) in between
                    gap_since_anchor = True
                next_start = seg.first_frame + seg.frame_count
                known_end = max(known_end, next_start)
                if seg.motion is not None and seg.motion.model == MotionModel.GLOBAL_SIMILARITY:
                    for i, rec in enumerate(seg.motion.records):
                        motion[seg.first_frame + i] = rec
                # Frames lost to damage before this segment: hold.  Otherwise
                # the frames after the last segment's last keyframe are
                # generated towards this segment's first keyframe (spec 7),
                # below; holding them froze the picture at every segment
                # boundary whose last frame is not a keyframe.
                if gap_since_anchor and seg.first_frame > emitted:
                    yield from fill(seg.first_frame, last_img)
                try:
                    pictures = []
                    for p in sorted(seg.payloads, key=lambda p: p.keyframe_number):
                        dec = decoders.get(p.codec)
                        if dec is None:
                            dec = decoders[p.codec] = make_decoder(p.codec, colors)
                        if p.random_access:
                            dec.reset()
                            broken_track = False
                        elif broken_track:
                            raise PayloadError("its reference was lost to earlier damage; "
                                               "waiting for the next random-access point")
                        img = dec.decode(p)
                        if img.shape[:2] != (h, w):
                            img = resize_rgb(img, w, h)
                        pictures.append((seg.first_frame + seg.keyframes[p.keyframe_number], img))
                except (PayloadError, CMVCError) as exc:
                    broken_track = True
                    gap_since_anchor = True
                    damage(f"segment {seg.index}: keyframes do not decode: "
                           f"{getattr(exc, 'reason', exc)}")
                    yield from fill(seg.first_frame + seg.frame_count, last_img)
                    continue
                for f, img in pictures:
                    n_between = f - emitted
                    cut = seg.scene_cut and f == seg.first_frame
                    if last_img is None or gap_since_anchor or cut or last_frame != emitted - 1:
                        # Nothing to interpolate from: hold what we have (the
                        # new keyframe if it is the very first picture).
                        yield from fill(f, last_img if last_img is not None else img)
                    elif n_between > 0:
                        steps = motion_steps(motion, last_frame, f)
                        mids = gen.interpolate(last_img, img, n_between, motion=steps)
                        for m in mids:
                            emitted += 1
                            yield m
                    emitted += 1
                    yield img
                    last_frame, last_img = f, img
                    gap_since_anchor = False
            total = header.frame_count if header.frame_count is not None else known_end
            yield from fill(total, last_img)
            report.frames = emitted

    return header, frames()


def stderr_damage(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)
