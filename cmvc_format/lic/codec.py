"""CMVC-LIC encode and decode: RGB picture <-> payload (spec/CMVC.md 10.2.1).

    picture --TAEF2 encoder--> latent (32 ch, 1/8) --analysis, gain q, round-->
    symbols (C ch, 1/32) --range coder, tables of q--> payload

and back through the inverse gain, the synthesis transform and the TAEF2
decoder. Pictures of any size are padded by edge replication to a multiple of
32 pixels and cropped after decoding.

Decoded symbols are identical on every machine (integer tables); the pixels
after the synthesis transforms are floats and may differ in the last bits
between machines and torch builds, which the conformance tests allow for.
"""
from __future__ import annotations

import hashlib
import threading

import numpy as np

from ..errors import PayloadError
from . import entropy
from .payload import build_payload, parse_payload

#: Pixels per code sample along each axis: TAEF2's 8 times the codec's 4.
BLOCK = 32
MAX_SIZE = 65535


class LearnedImageCodec:
    """Holds the loaded models; `encode` / `decode` are the whole API."""

    def __init__(self, lic_path=None, taef2_path=None, threads: int | None = None):
        import torch

        from .weights_file import WeightsError, find_weights, load_codec_weights, load_taef2, sha256_file

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.model, self.tables, self.lic_sha256, needed = load_codec_weights(lic_path)
        taef2_path = taef2_path or find_weights("taef2")
        self.taef2_sha256 = sha256_file(taef2_path)
        if self.taef2_sha256 != needed:
            raise WeightsError(f"the cmvc-lic weights need TAEF2 {needed[:8]}..., "
                               f"{taef2_path} is {self.taef2_sha256[:8]}...")
        self.encoder, self.decoder = load_taef2(taef2_path)
        self.model_id = bytes.fromhex(self.lic_sha256)[:4]
        self.n_quality = self.model.n_quality

    def models(self) -> list[tuple[str, str]]:
        """(name, SHA-256 hex) of every weight file a payload needs, for a
        stream's model table."""
        return [(f"cmvc-lic-{self.lic_sha256[:8]}", self.lic_sha256),
                (f"taef2-{self.taef2_sha256[:8]}", self.taef2_sha256)]

    # -- encoding -----------------------------------------------------------
    def latent(self, rgb: np.ndarray):
        """TAEF2 latent of the padded picture (the costly half of encoding,
        shared by all quality levels)."""
        torch = self._torch
        padded = _pad(_check_picture(rgb), BLOCK)
        x = torch.from_numpy(np.array(padded, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            return self.encoder(x)

    def symbols_of_latent(self, latent, quality: int) -> np.ndarray:
        if not 0 <= quality < self.n_quality:
            raise ValueError(f"quality must be 0..{self.n_quality - 1}, not {quality}")
        with self._torch.inference_mode():
            code = self.model.analyse(latent, quality)
        return entropy.clamp(self._torch.round(code)[0].numpy(), self.tables[quality])

    def symbols(self, rgb: np.ndarray, quality: int) -> np.ndarray:
        """The integer code of a picture, int32 [C, ceil(h/32), ceil(w/32)]."""
        return self.symbols_of_latent(self.latent(rgb), quality)

    def payload_of_symbols(self, symbols: np.ndarray, quality: int, width: int, height: int) -> bytes:
        data = entropy.encode(symbols, self.tables[quality])
        return build_payload(quality, width, height, self.model_id, data)

    def encode(self, rgb: np.ndarray, quality: int) -> bytes:
        symbols = self.symbols(rgb, quality)
        return self.payload_of_symbols(symbols, quality, rgb.shape[1], rgb.shape[0])

    # -- decoding -----------------------------------------------------------
    def decode_symbols(self, payload: bytes):
        """(parsed header, int32 symbols) without running any network."""
        head = parse_payload(payload)
        if head.model != self.model_id:
            raise PayloadError(f"cmvc-lic payload needs model {head.model.hex()}..., "
                               f"this decoder has {self.model_id.hex()}...")
        if head.quality >= self.n_quality:
            raise PayloadError(f"cmvc-lic quality {head.quality} is not in this model (0..{self.n_quality - 1})")
        rows, cols = -(-head.height // BLOCK), -(-head.width // BLOCK)
        return head, entropy.decode(head.data, self.tables[head.quality], rows, cols)

    def decode(self, payload: bytes) -> np.ndarray:
        torch = self._torch
        head, symbols = self.decode_symbols(payload)
        with torch.inference_mode():
            latent = self.model.synthesise(torch.from_numpy(symbols)[None].float(), head.quality)
            pixels = self.decoder(latent).clamp(0, 1)
        out = (pixels[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(out[:head.height, :head.width])


def symbols_md5(symbols: np.ndarray) -> str:
    """The conformance digest: MD5 of the symbols as int32 little-endian, C order."""
    return hashlib.md5(np.ascontiguousarray(symbols, dtype="<i4").tobytes()).hexdigest()


def _check_picture(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 RGB picture")
    h, w = rgb.shape[:2]
    if not (1 <= h <= MAX_SIZE and 1 <= w <= MAX_SIZE):
        raise ValueError(f"picture size {w}x{h} is outside 1..{MAX_SIZE}")
    return rgb


def _pad(rgb: np.ndarray, multiple: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    ph, pw = -h % multiple, -w % multiple
    return np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="edge") if ph or pw else rgb


_cache: dict = {}
_lock = threading.Lock()


def load_codec(lic_path=None, taef2_path=None) -> LearnedImageCodec:
    """The shipped codec, loaded once per process (or the given weights)."""
    key = (str(lic_path), str(taef2_path))
    with _lock:
        if key not in _cache:
            _cache[key] = LearnedImageCodec(lic_path, taef2_path)
        return _cache[key]
