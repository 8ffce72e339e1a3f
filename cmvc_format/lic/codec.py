"""CMVC-LIC encode and decode: RGB picture <-> payload (spec/CMVC.md 10.2.1).

    picture --TAEF2(-slim) encoder--> latent (32 ch, 1/8) --analysis, gain q, round-->
    symbols (C ch, 1/32) --range coder, tables of q--> payload

and back through the inverse gain, the synthesis transform and the TAEF2
decoder. Pictures of any size are padded by edge replication to a multiple of
32 pixels and cropped after decoding.

Decoded symbols are identical on every machine (integer tables); the pixels
after the synthesis transforms are floats and differ between machines, torch
builds and precisions, which the conformance tolerance allows for.

Precision: on CPUs with native bfloat16 (AVX512-BF16 or AMX) the networks run
in bfloat16 autocast, else in float32; both in channels-last layout. Measured
on 4 Kodak images at q2 and q5 (2 cores, AMX, with TAEF2): encode + decode
0.62 s in bfloat16 against 2.0 s in float32, the same bpp (+-0.1%), PSNR
within 0.1 dB and LPIPS within 0.003; the two reconstructions are 34.6-41.3 dB
apart. With TAEF2-slim on an AVX512-BF16 CPU without AMX: 0.81 s (bfloat16)
and 1.55 s (float32) at 768x512.
`CMVC_LIC_PRECISION=fp32|bf16` overrides the choice.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import threading

import numpy as np

from ..errors import PayloadError
from . import conditional, entropy
from .payload import build_payload, parse_payload

#: Pixels per code sample along each axis: TAEF2's 8 times the codec's 4.
BLOCK = 32
MAX_SIZE = 65535
#: Encoder setting of predicted payloads: how far beyond rounding a symbol is
#: pulled to the previous keyframe's value (predicted_symbols_of_latent); the
#: conditional tables are fitted with it. On carphone end to end (75 % of
#: SVT-AV1 crf 63's rate, RIFE), 0.2 gave LPIPS 0.0912 / 22.86 dB at 9.10 kbps
#: and 0 gave 0.0937 / 22.54 dB at 8.72 kbps (both level 4, 16 keyframes
#: against 8: kept symbols cost so little that twice the keyframes fit).
KEEP = 0.2


class LearnedImageCodec:
    """Holds the loaded models; `encode` / `decode` are the whole API."""

    def __init__(self, lic_path=None, taef2_path=None, precision: str | None = None):
        import torch

        from pathlib import Path

        from .weights_file import (WEIGHTS_DIR, WeightsError, find_by_hash, load_codec_weights,
                                   load_conditional_tables, load_taef2, sha256_file)

        self._torch = torch
        self.model, self.tables, self.lic_sha256, needed = load_codec_weights(lic_path)
        # the lic weights pin their pixel transform by hash
        taef2_path = Path(taef2_path or find_by_hash(needed))
        self.taef2_name = taef2_path.stem
        self.taef2_sha256 = sha256_file(taef2_path)
        if self.taef2_sha256 != needed:
            raise WeightsError(f"the cmvc-lic weights need TAEF2(-slim) weights {needed[:8]}..., "
                               f"{taef2_path} is {self.taef2_sha256[:8]}...")
        self.encoder, self.decoder = load_taef2(taef2_path)
        for module in (self.encoder, self.decoder, self.model):
            module.to(memory_format=torch.channels_last)  # ~1.4x faster convolutions on CPU
        self.precision = choose_precision(torch, precision)
        self.model_id = bytes.fromhex(self.lic_sha256)[:4]
        self.n_quality = self.model.n_quality
        # Predicted payloads need the conditional tables fitted for these weights.
        cond = load_conditional_tables(self.lic_sha256, Path(lic_path).parent if lic_path else WEIGHTS_DIR)
        self.cond_tables, self.cond_sha256 = cond if cond else (None, None)
        self.cond_id = bytes.fromhex(self.cond_sha256)[:4] if cond else None

    def models(self, predicted: bool = False) -> list[tuple[str, str]]:
        """(name, SHA-256 hex) of every weight file a payload needs, for a
        stream's model table; `predicted`: the stream has predicted payloads."""
        out = [(f"cmvc-lic-{self.lic_sha256[:8]}", self.lic_sha256), (self.taef2_name, self.taef2_sha256)]
        if predicted:
            digest = self._need_cond()
            out.append((f"cmvc-lic-cond-{digest[:8]}", digest))
        return out

    def _need_cond(self) -> str:
        if self.cond_tables is None:
            from .weights_file import WeightsError
            raise WeightsError(f"no conditional tables (lic-cond-*.safetensors) for the lic weights "
                               f"{self.lic_sha256[:8]}...; reinstall cmvc or run tools/fit_lic_conditional.py")
        return self.cond_sha256

    def _autocast(self):
        return autocast(self._torch, self.precision)

    # -- encoding -----------------------------------------------------------
    def latent(self, rgb: np.ndarray):
        """TAEF2 latent of the padded picture (the costly half of encoding,
        shared by all quality levels)."""
        torch = self._torch
        padded = pad_to_multiple(_check_picture(rgb), BLOCK)
        x = torch.from_numpy(np.array(padded, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._autocast():
            return self.encoder(x)

    def symbols_of_latent(self, latent, quality: int) -> np.ndarray:
        if not 0 <= quality < self.n_quality:
            raise ValueError(f"quality must be 0..{self.n_quality - 1}, not {quality}")
        with self._torch.inference_mode(), self._autocast():
            code = self.model.analyse(latent, quality)
        return entropy.clamp(self._torch.round(code.float())[0].numpy(), self.tables[quality])

    def predicted_symbols_of_latent(self, latent, quality: int, prev: np.ndarray,
                                    keep: float = KEEP) -> np.ndarray:
        """The symbols of a predicted payload given the previous keyframe's
        symbols prev: rounded as for a random-access payload, except that a
        symbol within 0.5 + keep of prev's (before rounding) takes prev's
        value, which the conditional tables code for a fraction of a bit.
        keep is the encoder's choice; the decoder never sees it."""
        if not 0 <= quality < self.n_quality:
            raise ValueError(f"quality must be 0..{self.n_quality - 1}, not {quality}")
        with self._torch.inference_mode(), self._autocast():
            code = self.model.analyse(latent, quality)
        code = code.float()[0].numpy()
        if code.shape != prev.shape:
            raise ValueError(f"previous symbols {prev.shape} do not match the picture's {code.shape}")
        rounded = np.round(code)
        chosen = np.where(np.abs(code - prev) < 0.5 + keep, prev, rounded)
        return entropy.clamp(chosen, self.tables[quality])

    def symbols(self, rgb: np.ndarray, quality: int) -> np.ndarray:
        """The integer code of a picture, int32 [C, ceil(h/32), ceil(w/32)]."""
        return self.symbols_of_latent(self.latent(rgb), quality)

    def payload_of_symbols(self, symbols: np.ndarray, quality: int, width: int, height: int,
                           prev: np.ndarray | None = None) -> bytes:
        """A random-access payload, or with prev (the previous keyframe's
        symbols, same quality and size) a predicted one."""
        if prev is None:
            return build_payload(quality, width, height, self.model_id, entropy.encode(symbols, self.tables[quality]))
        self._need_cond()
        table, ctable = self.tables[quality], self.cond_tables[quality]
        weight = conditional.choose_weight(symbols, prev, table, ctable)
        data = conditional.encode(symbols, prev, table, ctable, weight)
        return build_payload(quality, width, height, self.model_id, data, tables=self.cond_id, weight=weight)

    def encode(self, rgb: np.ndarray, quality: int) -> bytes:
        symbols = self.symbols(rgb, quality)
        return self.payload_of_symbols(symbols, quality, rgb.shape[1], rgb.shape[0])

    # -- decoding -----------------------------------------------------------
    def decode_symbols(self, payload: bytes, prev: np.ndarray | None = None, prev_quality: int | None = None):
        """(parsed header, int32 symbols) without running any network. A
        predicted payload needs prev, the symbols of the previous keyframe of
        its group, and prev_quality, their quality."""
        head = parse_payload(payload)
        if head.model != self.model_id:
            raise PayloadError(f"cmvc-lic payload needs model {head.model.hex()}..., "
                               f"this decoder has {self.model_id.hex()}...")
        if head.quality >= self.n_quality:
            raise PayloadError(f"cmvc-lic quality {head.quality} is not in this model (0..{self.n_quality - 1})")
        rows, cols = -(-head.height // BLOCK), -(-head.width // BLOCK)
        if not head.predicted:
            return head, entropy.decode(head.data, self.tables[head.quality], rows, cols)
        if head.tables != self.cond_id:
            raise PayloadError(f"predicted cmvc-lic payload needs conditional tables {head.tables.hex()}..., "
                               f"this decoder has {self.cond_id.hex() + '...' if self.cond_id else 'none'}")
        if prev is None:
            raise PayloadError("predicted cmvc-lic payload without a previous keyframe")
        if prev_quality != head.quality or prev.shape[1:] != (rows, cols):
            raise PayloadError("predicted cmvc-lic payload differs in quality or size from its reference")
        return head, conditional.decode(head.data, prev, self.tables[head.quality], self.cond_tables[head.quality],
                                        head.weight)

    def decode(self, payload: bytes, prev: np.ndarray | None = None, prev_quality: int | None = None) -> np.ndarray:
        return self.reconstruct(*self.decode_symbols(payload, prev, prev_quality))

    def reconstruct(self, head, symbols: np.ndarray) -> np.ndarray:
        """The picture of decoded symbols (the floating-point half of decoding)."""
        torch = self._torch
        with torch.inference_mode(), self._autocast():
            latent = self.model.synthesise(torch.from_numpy(symbols)[None].float(), head.quality)
            pixels = self.decoder(latent).float().clamp(0, 1)
        out = (pixels[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(out[:head.height, :head.width])


def choose_precision(torch, precision: str | None = None) -> str:
    """The given precision, else CMVC_LIC_PRECISION, else what the CPU runs
    natively; shared by every network the decoder runs."""
    chosen = precision or os.environ.get("CMVC_LIC_PRECISION") or _native_precision(torch)
    if chosen not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32 or bf16, not {chosen!r}")
    return chosen


def autocast(torch, precision: str):
    """bfloat16 autocast for "bf16", nothing for "fp32"."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _native_precision(torch) -> str:
    """bf16 only where the CPU computes it natively: emulated it is slower."""
    cpu = torch.cpu
    native = getattr(cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    return "bf16" if native else "fp32"


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


def pad_to_multiple(rgb: np.ndarray, multiple: int) -> np.ndarray:
    """Edge-replicated to the next multiple of `multiple` in height and width."""
    h, w = rgb.shape[:2]
    ph, pw = -h % multiple, -w % multiple
    return np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="edge") if ph or pw else rgb


_cache: dict = {}
_lock = threading.Lock()


def load_codec(lic_path=None, taef2_path=None, precision: str | None = None) -> LearnedImageCodec:
    """The shipped codec, loaded once per process (or the given weights)."""
    key = (str(lic_path), str(taef2_path), precision)
    with _lock:
        if key not in _cache:
            _cache[key] = LearnedImageCodec(lic_path, taef2_path, precision=precision)
        return _cache[key]
