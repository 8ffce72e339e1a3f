"""Weight files of the learned image codec, shipped in cmvc_format/lic/weights.

Every file is named `<model>-<first 8 hex digits of its SHA-256>.safetensors`
and is checked against that prefix when loaded, so a stream's model table
(which carries the full SHA-256) names exactly the weights that decode it.

- `taef2-*.safetensors`: the TAEF2 encoder and decoder (MIT, see
  LICENSE-taesd.txt), tensors as published (float16). Training reads it.
- `taef2s-*.safetensors`: TAEF2-slim, the pixel transform the codec runs:
  TAEF2 with 32-channel full-resolution stages, distilled from it by
  tools/distill_taef2.py (same licence).
- `lic-*.safetensors`: the trained latent codec (transforms.LatentCodec), its
  quality gains and, per quality level q, `table.q`: the integer frequency
  table (int32 [code channels, 2r+1], rows summing to 2**16) the range coder
  uses; r is in the metadata. The tables are the normative part: a decoder
  never derives probabilities from floats.
- `lic-cond-*.safetensors`: the conditional tables of predicted payloads
  (conditional.py): per quality level q, `cond.q`, int32 [code channels,
  contexts, 2] (same, near); metadata `lic_sha256` pins the lic weights they
  were fitted for. Made by tools/fit_lic_conditional.py.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
TABLE_PRECISION = 16


class WeightsError(RuntimeError):
    pass


def sha256_file(path: Path) -> str:
    """SHA-256 hex of a file; remembered per (path, size, mtime), because
    locating, checking and naming the weights would otherwise read each
    multi-MB file several times per load."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def find_weights(model: str, directory: Path = WEIGHTS_DIR,
                 trainer: str = "tools/train_keyframe_codec.py") -> Path:
    """The single `<model>-<sha8>.safetensors` in directory, hash checked."""
    found = sorted(directory.glob(f"{model}-????????.safetensors"))
    if len(found) != 1:
        raise WeightsError(f"expected one {model}-<sha8>.safetensors in {directory}, found {len(found)}; "
                           f"reinstall cmvc or run {trainer}")
    return check_weights(found[0])


def check_weights(path: Path) -> Path:
    digest = sha256_file(path)
    if not path.stem.endswith("-" + digest[:8]):
        raise WeightsError(f"{path.name}: SHA-256 {digest[:8]}... does not match its name; the file is damaged")
    return path


#: The pixel transform new `lic` weights are trained with and pin.
PIXEL_TRANSFORM = "taef2s"


def find_by_hash(sha256: str, directory: Path = WEIGHTS_DIR) -> Path:
    """The weights file whose SHA-256 is sha256 (named `<model>-<sha8>`)."""
    for path in sorted(directory.glob(f"*-{sha256[:8]}.safetensors")):
        if sha256_file(path) == sha256:
            return path
    raise WeightsError(f"no weights file with SHA-256 {sha256[:8]}... in {directory}; "
                       "reinstall cmvc or run tools/distill_taef2.py")


def load_taef2(path: Path | None = None):
    """(encoder, decoder) of a TAEF2 or TAEF2-slim file (default: the
    teacher, TAEF2) as float32 eval modules."""
    from safetensors.torch import load_file

    from . import taef2

    state = load_file(str(check_weights(path) if path else find_weights("taef2")))
    encoder = taef2.build_encoder(taef2.top_width(state, "encoder."))
    decoder = taef2.build_decoder(taef2.top_width(state, "decoder."))
    for prefix, module in (("encoder.", encoder), ("decoder.", decoder)):
        module.load_state_dict({k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)})
        module.eval().requires_grad_(False)
    return encoder, decoder


@dataclass
class QualityTable:
    radius: int
    frequencies: np.ndarray  # int32 [channels, 2*radius+1]


def save_codec_weights(model, out_dir: Path, transform: Path | None = None) -> Path:
    """Write model and its integer tables, pinning the pixel transform it was
    trained with (default: the shipped PIXEL_TRANSFORM); returns the
    hash-named path."""
    import torch

    # float16 halves the file; the model is rounded first so that the tables
    # below and every later load see exactly the stored values.
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(param.half().float())
    tensors = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    radii = {}
    for q in range(model.n_quality):
        radius, freq = model.quantized_tables(q, TABLE_PRECISION)
        tensors[f"table.{q}"] = torch.from_numpy(freq)
        radii[str(q)] = radius
    meta = {"model": "cmvc-lic", "config": json.dumps(model.config()), "radius": json.dumps(radii),
            "table_precision": str(TABLE_PRECISION),
            # the frozen transform it was trained with: decoding needs exactly it
            "taef2_sha256": sha256_file(transform or find_weights(PIXEL_TRANSFORM))}
    return write_named_weights("lic", tensors, meta, out_dir)


def write_named_weights(model: str, tensors: dict, meta: dict, out_dir: Path) -> Path:
    """Write `<model>-<sha8>.safetensors` (sorted header) into out_dir,
    replacing the older file of that model; returns its path."""
    from safetensors.torch import save

    data = canonical_safetensors(save(tensors, metadata=meta))
    digest = hashlib.sha256(data).hexdigest()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{model}-????????.safetensors"):
        old.unlink()
    path = out_dir / f"{model}-{digest[:8]}.safetensors"
    path.write_bytes(data)
    return path


def canonical_safetensors(data: bytes) -> bytes:
    """The same file with its JSON header's keys sorted. safetensors writes
    the metadata from a hash map, so its order (and the file's SHA-256, which
    names the weights in every stream) changed from one export of the same
    model to the next. Offsets are relative to the data section and stay
    valid; sort_keys also orders the nested __metadata__; the header is padded
    with spaces to 8 bytes as safetensors does."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + size:]


def load_codec_weights(path: Path | None = None):
    """(LatentCodec in eval mode, {quality: QualityTable}, sha256 hex,
    SHA-256 hex of the pixel transform (TAEF2 or TAEF2-slim) it needs)."""
    from safetensors import safe_open

    from .transforms import LatentCodec

    path = check_weights(path) if path else find_weights("lic")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys()}
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    model = LatentCodec(**json.loads(meta["config"]))
    tables = {}
    radii = json.loads(meta["radius"])
    for q in range(model.n_quality):
        freq = state.pop(f"table.{q}").numpy().astype(np.int32)
        tables[q] = QualityTable(int(radii[str(q)]), freq)
    model.load_state_dict(state)
    model.eval().requires_grad_(False)
    return model, tables, sha256_file(path), meta["taef2_sha256"]


def save_conditional_tables(tables: dict[int, np.ndarray], lic_sha256: str, meta: dict,
                            out_dir: Path = WEIGHTS_DIR) -> Path:
    """Write the conditional tables ({quality: int32 [C, contexts, 2]}) of the
    lic weights lic_sha256 as `lic-cond-<sha8>.safetensors`."""
    import torch

    tensors = {f"cond.{q}": torch.from_numpy(np.ascontiguousarray(t, dtype=np.int32)) for q, t in tables.items()}
    meta = {**{k: str(v) for k, v in meta.items()}, "model": "cmvc-lic-cond", "lic_sha256": lic_sha256}
    return write_named_weights("lic-cond", tensors, meta, out_dir)


def load_conditional_tables(lic_sha256: str, directory: Path = WEIGHTS_DIR):
    """({quality: int32 [C, contexts, 2]}, sha256 hex) of the conditional
    tables fitted for the lic weights lic_sha256, or None when there are none."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    for path in sorted(Path(directory).glob("lic-cond-????????.safetensors")):
        check_weights(path)
        with safe_open(str(path), framework="np") as f:
            if f.metadata().get("lic_sha256") != lic_sha256:
                continue
        state = load_file(str(path))
        tables = {int(k.split(".")[1]): v.astype(np.int32) for k, v in state.items() if k.startswith("cond.")}
        return tables, sha256_file(path)
    return None
