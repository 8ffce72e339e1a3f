"""zstd for captions and motion data, with the decompression limits of spec 8.

Decompression never trusts a declared size: output is read through a bounded
stream reader, so a small frame that expands to gigabytes (a "zstd bomb")
costs at most ``limit + 1`` bytes of memory before it is refused.
"""
from __future__ import annotations

import io

import zstandard

from .errors import DecompressionError

#: Level used by the writer. Fixed so identical input gives identical bytes
#: (with the pinned zstandard release).
ZSTD_LEVEL = 19


def _compressor(dictionary: bytes | None) -> zstandard.ZstdCompressor:
    zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary is not None else None
    return zstandard.ZstdCompressor(
        level=ZSTD_LEVEL, dict_data=zdict, write_checksum=False,
        write_content_size=True, write_dict_id=False,
    )


def compress(data: bytes, dictionary: bytes | None = None) -> bytes:
    return _compressor(dictionary).compress(data)


def decompress(data: bytes, expected_size: int, *, offset: int,
               dictionary: bytes | None = None) -> bytes:
    """Decompress one zstd frame that must yield exactly ``expected_size`` bytes."""
    try:
        zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary is not None else None
        dctx = zstandard.ZstdDecompressor(dict_data=zdict)
        with dctx.stream_reader(io.BytesIO(data), read_across_frames=False) as reader:
            out = reader.read(expected_size + 1)
            # read() may return short; keep reading until EOF or over the limit.
            while len(out) <= expected_size:
                more = reader.read(expected_size + 1 - len(out))
                if not more:
                    break
                out += more
    except zstandard.ZstdError as exc:
        raise DecompressionError(f"corrupt zstd data: {exc}", offset) from None
    if len(out) != expected_size:
        more = "more than" if len(out) > expected_size else f"{len(out)} bytes, not"
        raise DecompressionError(
            f"zstd data decompresses to {more} the declared {expected_size} bytes", offset)
    return out


def train_dictionary(samples: list[bytes], size: int, dictionary_id: int) -> bytes:
    """A zstd dictionary trained on caption samples (deterministic for the same samples)."""
    d = zstandard.train_dictionary(size, samples, dict_id=dictionary_id, threads=1)
    return d.as_bytes()
