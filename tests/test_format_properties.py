"""Property tests: build -> parse is the identity on arbitrary valid streams,
and no byte string makes the reader do anything but return or raise CMVCError."""
import resource
import time
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmvc_format import (
    AncillaryChunk, Caption, CMVCError, Codec, Dictionary, GenerationParams, KeyframePayload,
    KeyframeRefId, ModelRef, Motion, Segment, StreamHeader, StreamReader, probe, read_stream,
    write_stream,
)
from cmvc_format.registry import CaptionKind, Mode, ModelRole, MotionModel, PixelFormat

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
short_text = text.filter(lambda s: len(s.encode()) < 256)
u8, u16, u32 = (st.integers(0, 2**n - 1) for n in (8, 16, 32))
pos_u32 = st.integers(1, 2**32 - 1)


@st.composite
def headers(draw, frame_count):
    models = draw(st.lists(st.builds(
        ModelRef, st.sampled_from(list(ModelRole)),
        short_text.filter(bool), st.binary(min_size=32, max_size=32)), max_size=4))
    w = draw(st.integers(1, 8192))
    h = draw(st.integers(1, min(8192, (1 << 26) // w)))
    return StreamHeader(
        width=w, height=h,
        frame_rate=Fraction(draw(pos_u32), draw(pos_u32)),
        time_base=Fraction(draw(pos_u32), draw(pos_u32)),
        frame_count=draw(st.sampled_from([frame_count, None])),
        pixel_format=draw(st.sampled_from(list(PixelFormat))),
        chroma_location=draw(st.integers(0, 6)), color_primaries=draw(u8),
        transfer_characteristics=draw(u8), matrix_coefficients=draw(u8),
        color_range=draw(st.integers(0, 2)), encoder_name=draw(short_text),
        encoder_version=draw(short_text), models=models)


@st.composite
def segment(draw, index, first, n_models):
    count = draw(st.integers(1, 40))
    mode = draw(st.sampled_from([Mode.IT2V, Mode.TT2V]))
    kfs = sorted(draw(st.sets(st.integers(0, count - 1), max_size=4,
                              min_size=1 if mode == Mode.IT2V else 0)))
    payloads = []
    numbers = range(len(kfs)) if mode == Mode.IT2V else draw(st.sets(st.integers(0, max(len(kfs) - 1, 0)))) if kfs else []
    for k in sorted(numbers):
        rap = draw(st.booleans()) or (index == 0 and k == 0)
        refs = []
        if not rap:
            choices = [(index, j) for j in range(k)] + [(i, 0) for i in range(index)]
            refs = [KeyframeRefId(*r) for r in draw(st.lists(st.sampled_from(choices), min_size=1,
                                                              max_size=3, unique=True))] if choices else []
            rap = not refs
        codecs = list(Codec) if rap else [Codec.AV1, Codec.CMVC_LIC, 0x8001]  # RAW is intra only
        payloads.append(KeyframePayload(k, draw(st.sampled_from(codecs)), draw(st.integers(1, 4096)),
                                        draw(st.integers(1, 4096)), draw(st.binary(max_size=64)),
                                        random_access=rap, refs=refs))
    caps = draw(st.lists(st.builds(Caption, st.sampled_from([0, 1, 7]), text), max_size=3))
    if mode == Mode.TT2V:
        caps.insert(0, Caption(CaptionKind.CONTENT, draw(text)))
    motion = None
    if draw(st.booleans()):
        vpr = draw(st.integers(1, 6))
        model = MotionModel.GLOBAL_SIMILARITY if vpr == 4 and draw(st.booleans()) else 200
        motion = Motion(model, [tuple(draw(st.lists(st.integers(-32768, 32767), min_size=vpr, max_size=vpr)))
                                for _ in range(count)], values_per_record=vpr)
    gen = None
    if draw(st.booleans()):
        gen = GenerationParams(
            generator_model=draw(st.sampled_from([None] + list(range(n_models)))),
            seed=draw(st.integers(0, 2**64 - 1)), steps=draw(u16), guidance_milli=draw(u32),
            scheduler=draw(short_text),
            params=draw(st.dictionaries(short_text, text, max_size=3)))
    anc = draw(st.lists(st.builds(AncillaryChunk, st.sampled_from([b"zzzz", b"tEXT"]),
                                  st.binary(max_size=16)), max_size=2))
    return Segment(index=index, first_frame=first, frame_count=count, mode=mode, keyframes=kfs,
                   scene_cut=draw(st.booleans()), payloads=payloads, captions=caps,
                   motion=motion, generation=gen, ancillary=anc)


@st.composite
def streams(draw):
    n = draw(st.integers(0, 5))
    n_models = draw(st.integers(0, 3))
    segs, first = [], 0
    for i in range(n):
        s = draw(segment(i, first, n_models))
        segs.append(s)
        first += s.frame_count
    header = draw(headers(first))
    header.models = header.models[:n_models] + [
        ModelRef(ModelRole.TEXT_TO_VIDEO, f"m{i}", bytes(32)) for i in range(n_models - len(header.models))]
    options = dict(index=draw(st.booleans()), compress_captions=draw(st.booleans()),
                   compress_motion=draw(st.booleans()))
    if draw(st.booleans()):
        options["caption_dictionary"] = Dictionary(draw(st.integers(1, 2**32 - 1)),
                                                   draw(st.binary(min_size=8, max_size=64)))
    return header, segs, options


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_build_then_parse_is_identity(case):
    header, segs, options = case
    data = write_stream(header, segs, **options)
    s = read_stream(data)
    assert s.header == header
    assert s.segments == segs
    assert (s.index is not None) == options["index"]
    assert write_stream(header, segs, **options) == data  # deterministic bytes
    if options["index"]:
        with StreamReader(data) as r:
            for seg in segs:
                assert r.read_segment(seg.index) == seg


def _bounded_parse(data: bytes) -> None:
    try:
        read_stream(data)
    except CMVCError:
        pass
    try:
        with StreamReader(data, errors="report") as r:
            list(r.segments())
            r.index()
    except CMVCError:
        pass
    try:
        probe(data)
        probe(data, scan=False)
    except CMVCError:
        pass


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_give_a_result_or_cmvc_error(data):
    _bounded_parse(data)


SEEDS = [p.read_bytes() for p in sorted((VECTORS / "valid").glob("*.cmvc"))]


@settings(max_examples=400, deadline=2000)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)),
                                        min_size=1, max_size=4), st.integers(0, 4096))
def test_mutated_vectors_give_a_result_or_cmvc_error(seed, edits, cut):
    """Byte flips and truncations of valid streams: the reader's checks (not
    luck) must catch every defect, in bounded time and memory."""
    data = bytearray(seed)
    for pos, val in edits:
        data[pos % len(data)] = val
    data = bytes(data[:max(cut, 1)]) if cut < len(data) else bytes(data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.monotonic()
    _bounded_parse(data)
    assert time.monotonic() - t < 1.5
    # peak RSS grows by far less than any claimed length (limits are enforced)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
