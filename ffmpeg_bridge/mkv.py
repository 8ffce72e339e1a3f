"""The CMVC stream inside Matroska: an attachment plus a caption subtitle track.

* The bitstream is an attachment named ``*.cmvc`` with MIME type
  ``application/x-cmvc``. Never an ``image/*`` type: FFmpeg turns those into
  video streams.
* FFmpeg cannot open an MKV that holds only attachments, so every file also
  has a real track: SubRip captions, one cue per segment with the segment's
  timing (content caption, then motion caption). Players show them; ffmpeg
  can extract them with ``-map 0:s``.
* Title and CMVC tags make the file recognisable without parsing the stream.
"""
from __future__ import annotations

import os
from fractions import Fraction

import av

from cmvc_format import SIGNATURE, CMVCError, DamagedSegment, StreamReader

MIME_TYPE = "application/x-cmvc"
CAPTION_TIME_BASE = Fraction(1, 1000)


class MKVError(Exception):
    """The MKV has no CMVC attachment, or cannot be read."""


def caption_cues(stream: bytes) -> list[tuple[int, int, str]]:
    """(start_ms, duration_ms, text) per segment that has captions."""
    cues = []
    with StreamReader(stream, errors="report") as r:
        fps = r.header.frame_rate
        for seg in r.segments():
            if isinstance(seg, DamagedSegment):
                continue
            lines = [c.text for c in seg.captions if c.text]
            if not lines:
                continue
            start = round(Fraction(seg.first_frame) / fps * 1000)
            end = round(Fraction(seg.first_frame + seg.frame_count) / fps * 1000)
            cues.append((start, max(1, end - start), "\n".join(lines)))
    return cues


def write_mkv(stream: bytes, path: str, *, title: str = "", attachment_name: str = "stream.cmvc",
              tags: dict[str, str] | None = None) -> None:
    """Mux a CMVC stream into ``path`` (temporary file, then rename)."""
    if not stream.startswith(SIGNATURE):
        raise CMVCError("not a CMVC stream")
    cues = caption_cues(stream)
    if not cues:  # the real track needs at least one packet
        cues = [(0, 1, "")]
    d, b = os.path.split(os.path.abspath(path))
    tmp = os.path.join(d, f".{b}.tmp-{os.getpid()}.mkv")
    try:
        with av.open(tmp, "w", format="matroska") as out:
            out.add_attachment(attachment_name, MIME_TYPE, stream)
            subs = out.add_mux_stream("subrip", time_base=CAPTION_TIME_BASE)
            subs.metadata["title"] = "CMVC captions"
            subs.metadata["language"] = "eng"
            if title:
                out.metadata["title"] = title
            out.metadata["CMVC_FORMAT"] = "1"
            for k, v in (tags or {}).items():
                out.metadata[k] = v
            for start, dur, text in cues:
                pkt = av.Packet(text.encode("utf-8"))
                pkt.stream = subs
                pkt.pts = pkt.dts = start
                pkt.duration = dur
                pkt.time_base = CAPTION_TIME_BASE
                out.mux(pkt)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_cmvc_attachment(path: str) -> bytes:
    """The bytes of the CMVC attachment of an MKV written by ``write_mkv``."""
    try:
        container = av.open(path, "r")
    except av.error.FFmpegError as exc:
        raise MKVError(f"{path}: cannot open as Matroska ({exc.strerror or exc})") from None
    with container:
        for st in container.streams:
            if st.type == "attachment" and (st.mimetype == MIME_TYPE or
                                             (st.name or "").endswith(".cmvc")):
                return bytes(st.data)
    raise MKVError(f"{path}: holds no CMVC attachment ({MIME_TYPE})")


def is_matroska(path: str) -> bool:
    with open(path, "rb") as fp:
        return fp.read(4) == b"\x1a\x45\xdf\xa3"
