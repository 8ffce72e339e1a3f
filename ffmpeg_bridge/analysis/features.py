"""Per-frame feature vectors for keyframe selection (spec 4.3 role 5).

A feature extractor maps uint8 RGB frames (N, H, W, 3) to float32 vectors
(N, D) whose cosine similarity says how alike two frames look.  Two are
provided:

* ``AnalyticFeatures`` ("analytic", the default): computed from the pixels,
  no weights, no download.
* ``ClipFeatures`` ("clip:/folder"): a CLIP vision tower loaded with
  transformers from a local folder, as the paper does.

``model_id`` and ``sha256`` are what the stream's model table records for the
keyframe selector (``sha256`` is ``None`` when no weights are involved).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ffmpeg_bridge.weights import WeightsUnavailableError

__all__ = [
    "FeatureExtractor", "AnalyticFeatures", "ClipFeatures", "get_feature_extractor",
    "check_frames", "area_downscale", "srgb_to_lab", "hf_weight_files", "hf_weights_sha256",
    "WeightsUnavailableError",
]


@runtime_checkable
class FeatureExtractor(Protocol):
    name: str
    model_id: str
    sha256: str | None

    def __call__(self, frames: np.ndarray) -> np.ndarray: ...


def check_frames(frames: np.ndarray, what: str = "frames") -> np.ndarray:
    """Accept (N, H, W, 3) uint8 RGB, or one (H, W, 3) frame as N = 1."""
    if isinstance(frames, np.ndarray) and frames.ndim == 3:
        frames = frames[None]
    if (not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4
            or frames.shape[3] != 3 or min(frames.shape[1:3]) < 1):
        desc = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else type(frames).__name__
        raise ValueError(f"{what} must be a uint8 RGB array of shape (N, H, W, 3), not {desc}")
    return frames


# --- pixel helpers shared with the analytic captioner ------------------------

def area_downscale(frames: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Box-filter (area) resize of (N, H, W, C) to (N, out_h, out_w, C), float32.

    Each output pixel is the mean of the input pixels whose index falls in its
    bin; bins differ by at most one pixel in size, so any size works.  Area
    averaging is what suppresses sensor noise before features are taken.  A
    dimension smaller than the output is first repeated (nearest neighbour).
    """
    n, h, w, c = frames.shape
    out_h, out_w = max(1, int(out_h)), max(1, int(out_w))
    if out_h > h:
        frames, h = frames[:, np.arange(out_h) * h // out_h], out_h
    if out_w > w:
        frames, w = frames[:, :, np.arange(out_w) * w // out_w], out_w
    rows = np.linspace(0, h, out_h + 1).astype(np.int64)
    cols = np.linspace(0, w, out_w + 1).astype(np.int64)
    # Integer sums are several times faster than float ones; uint32 holds a
    # column of up to 16M rows of uint8, uint64 anything after that.
    integral = np.issubdtype(frames.dtype, np.integer)
    acc = np.add.reduceat(frames, rows[:-1], axis=1, dtype=np.uint32 if integral else np.float64)
    acc = np.add.reduceat(acc, cols[:-1], axis=2, dtype=np.uint64 if integral else np.float64)
    counts = np.outer(np.diff(rows), np.diff(cols))[None, :, :, None]
    return (acc / counts).astype(np.float32)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 255] (any shape ending in 3) to CIELAB (D65), float32.

    CIELAB distances roughly follow perceived colour differences, which is
    why colour histograms and colour names are taken there.
    """
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    # sRGB (BT.709 primaries) to XYZ, divided by the D65 white point.
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]], dtype=np.float32)
    white = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    xyz = (lin @ m.T) / white
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lab = np.stack([116 * f[..., 1] - 16,
                    500 * (f[..., 0] - f[..., 1]),
                    200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)


def _soft_bins(x: np.ndarray, lo: float, hi: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear (soft) assignment of x to n bin centres spread over [lo, hi].

    Returns the lower bin index and the weight of the upper bin; soft binning
    keeps a small colour shift from jumping a whole count across a bin edge.
    """
    pos = np.clip((x - lo) / (hi - lo) * (n - 1), 0, n - 1 - 1e-6)
    i = np.floor(pos).astype(np.int64)
    return i, (pos - i).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norm, 1e-12)).astype(np.float32)


# --- the analytic extractor ---------------------------------------------------

class AnalyticFeatures:
    """Content-change features from pixels alone (no model, no download).

    Frames are first box-filtered to at most 160x160 (90x160 for 16:9), which
    averages away sensor noise and makes the cost independent of resolution.
    Three blocks are concatenated, each scaled to unit norm and then by
    1/sqrt(3), so that the cosine similarity of two vectors is the mean of the
    three blocks' similarities:

    1. **Colour histogram in CIELAB** (5x5x5 soft bins over L* 0..100,
       a*, b* -64..64; square-rooted so that the cosine is the Bhattacharyya
       coefficient).  Catches changes of palette and lighting; blind to
       layout, so it is stable under camera motion.
    2. **16x16 L* thumbnail**, zero mean, unit norm.  Catches changes of
       layout (what is where) independently of global brightness.  A constant
       component worth 2 L* of RMS contrast is appended before normalising:
       flat frames are then alike (instead of undefined), and structure far
       below visibility does not dominate.
    3. **Gradient-orientation histogram**: 8 unsigned orientations, magnitude
       weighted, in 2x2 spatial cells, plus one "flat" bin holding a gradient
       noise floor.  Catches changes of texture and edge structure, which
       colour and a coarse thumbnail miss (e.g. a cut between two scenes of
       similar palette).

    A hard cut between unrelated scenes gives a cosine distance of about
    0.3-0.8; a person entering a static view about 0.05; slow camera motion
    a few thousandths per frame.  The thumbnail is the most sensitive block,
    to local change and to translation alike.
    """

    name = "analytic"
    model_id = "cmvc-analytic-features-1"
    sha256 = None
    work_size = 160
    thumb = 16
    lab_bins = 5
    orientations = 8
    flat_contrast = 2.0     # L* RMS equivalent of the thumbnail's constant term
    flat_gradient = 0.5     # L* per pixel: gradient noise floor of the "flat" bin
    chunk = 32              # frames per batch, bounds the float64 working memory

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = check_frames(frames)
        out = [self._features(frames[i:i + self.chunk]) for i in range(0, len(frames), self.chunk)]
        return np.concatenate(out, axis=0)

    def working_rgb(self, frames: np.ndarray) -> np.ndarray:
        """Frames box-filtered to the working size, RGB float32 in [0, 255]."""
        h, w = frames.shape[1:3]
        scale = min(1.0, self.work_size / max(h, w))
        return area_downscale(frames, round(h * scale), round(w * scale))

    def working_lab(self, frames: np.ndarray) -> np.ndarray:
        """Frames box-filtered to the working size, in CIELAB (N, h, w, 3)."""
        return srgb_to_lab(self.working_rgb(frames))

    def _features(self, frames: np.ndarray) -> np.ndarray:
        lab = self.working_lab(frames)
        blocks = [self._colour(lab), self._thumbnail(lab[..., :1]), self._gradients(lab[..., 0])]
        return (np.concatenate([_unit(b) for b in blocks], axis=1) / np.sqrt(3)).astype(np.float32)

    def _colour(self, lab: np.ndarray) -> np.ndarray:
        n, nb = lab.shape[0], self.lab_bins
        px = lab.reshape(n, -1, 3)
        il, wl = _soft_bins(px[..., 0], 0.0, 100.0, nb)
        ia, wa = _soft_bins(px[..., 1], -64.0, 64.0, nb)
        ib, wb = _soft_bins(px[..., 2], -64.0, 64.0, nb)
        frame = np.arange(n)[:, None] * nb ** 3
        hist = np.zeros(n * nb ** 3, dtype=np.float64)
        for dl in (0, 1):
            for da in (0, 1):
                for db in (0, 1):
                    weight = ((wl if dl else 1 - wl) * (wa if da else 1 - wa) * (wb if db else 1 - wb))
                    idx = frame + ((il + dl) * nb + (ia + da)) * nb + (ib + db)
                    hist += np.bincount(idx.ravel(), weights=weight.ravel(), minlength=hist.size)
        hist = hist.reshape(n, -1) / px.shape[1]
        return np.sqrt(hist)

    def _thumbnail(self, luma: np.ndarray) -> np.ndarray:
        t = area_downscale(luma, self.thumb, self.thumb).reshape(len(luma), -1)
        t = t - t.mean(axis=1, keepdims=True)
        const = np.full((len(t), 1), self.flat_contrast * np.sqrt(t.shape[1]), dtype=np.float32)
        return np.concatenate([t, const], axis=1)

    def _gradients(self, luma: np.ndarray) -> np.ndarray:
        n, h, w = luma.shape
        p = np.pad(luma, ((0, 0), (1, 1), (1, 1)), mode="edge")
        gx = (p[:, 1:-1, 2:] - p[:, 1:-1, :-2]) / 2
        gy = (p[:, 2:, 1:-1] - p[:, :-2, 1:-1]) / 2
        mag = np.hypot(gx, gy)
        # Unsigned orientation: an edge and its mirror image look the same.
        theta = np.mod(np.arctan2(gy, gx), np.pi) / np.pi * self.orientations
        lo = np.floor(theta).astype(np.int64) % self.orientations
        frac = (theta - np.floor(theta)).astype(np.float32)
        hi = (lo + 1) % self.orientations
        cell = ((np.arange(h) * 2 // h)[:, None] * 2 + (np.arange(w) * 2 // w)[None, :])
        base = (np.arange(n)[:, None, None] * 4 + cell[None]) * self.orientations
        size = n * 4 * self.orientations
        hist = (np.bincount((base + lo).ravel(), weights=(mag * (1 - frac)).ravel(), minlength=size)
                + np.bincount((base + hi).ravel(), weights=(mag * frac).ravel(), minlength=size))
        hist = hist.reshape(n, -1) / (h * w)
        flat = np.full((n, 1), self.flat_gradient)
        return np.concatenate([hist, flat], axis=1)


# --- CLIP from a local folder ---------------------------------------------------

def hf_weight_files(folder: Path) -> list[Path]:
    """The weight files of a transformers save_pretrained folder, sorted."""
    files = sorted(folder.glob("*.safetensors"))
    return files or sorted(folder.glob("pytorch_model*.bin"))


def hf_weights_sha256(folder: Path) -> str:
    """SHA-256 of the weights: the file's own digest when there is one file;
    for a sharded checkpoint, the digest of its ``sha256sum``-style manifest
    (one "<hex>  <name>" line per shard, in name order)."""
    files = hf_weight_files(folder)
    if not files:
        raise WeightsUnavailableError(f"no weight files (*.safetensors, pytorch_model*.bin) in {folder}")
    digests = []
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digests.append(h.hexdigest())
    if len(files) == 1:
        return digests[0]
    manifest = "".join(f"{d}  {f.name}\n" for d, f in zip(digests, files))
    return hashlib.sha256(manifest.encode()).hexdigest()


_CLIP_LAYOUT = (
    "Expected a folder written by transformers' save_pretrained holding config.json "
    "(a CLIP or CLIP-vision config), the weights (model.safetensors, or pytorch_model.bin, "
    "or shards with their index) and preprocessor_config.json. On a machine with Hugging Face "
    "Hub access, create one with\n"
    "    from transformers import CLIPVisionModelWithProjection, CLIPImageProcessor\n"
    "    m = CLIPVisionModelWithProjection.from_pretrained('openai/clip-vit-base-patch32')\n"
    "    p = CLIPImageProcessor.from_pretrained('openai/clip-vit-base-patch32')\n"
    "    m.save_pretrained(DIR); p.save_pretrained(DIR)\n"
    "copy DIR here and pass 'clip:DIR'."
)


class ClipFeatures:
    """CLIP image embeddings (the paper's keyframe-selection features).

    Loaded strictly from a local folder (``local_files_only=True``): this
    project never downloads model weights at run time.
    """

    name = "clip"
    batch = 16

    def __init__(self, path: str | Path, *, model_id: str | None = None, device: str = "cpu"):
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise WeightsUnavailableError(f"CLIP model folder {str(folder)!r} does not exist. {_CLIP_LAYOUT}")
        if not (folder / "config.json").is_file() or not hf_weight_files(folder):
            raise WeightsUnavailableError(
                f"CLIP model folder {str(folder)!r} lacks config.json or weight files. {_CLIP_LAYOUT}")
        import torch
        from transformers import AutoImageProcessor, CLIPVisionModelWithProjection

        self.sha256 = hf_weights_sha256(folder)
        self.model_id = model_id or f"clip-vision:{folder.resolve().name}"
        self.device = torch.device(device)
        self.processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True)
        self.model = CLIPVisionModelWithProjection.from_pretrained(folder, local_files_only=True)
        self.model.to(self.device).eval()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch

        frames = check_frames(frames)
        out = []
        with torch.inference_mode():
            for i in range(0, len(frames), self.batch):
                batch = list(frames[i:i + self.batch])
                pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"]
                emb = self.model(pixel_values=pixels.to(self.device)).image_embeds
                out.append(emb.float().cpu().numpy())
        return _unit(np.concatenate(out, axis=0))


def get_feature_extractor(spec: str | None = "analytic") -> FeatureExtractor:
    """"analytic" (default) or "clip:/path/to/folder"."""
    spec = spec or "analytic"
    if spec == "analytic":
        return AnalyticFeatures()
    if spec.startswith("clip:"):
        path = spec[len("clip:"):]
        if not path:
            raise WeightsUnavailableError(f"'clip:' needs a folder. {_CLIP_LAYOUT}")
        return ClipFeatures(path)
    raise ValueError(f"unknown feature extractor {spec!r}: use 'analytic' or 'clip:/path/to/folder'")
