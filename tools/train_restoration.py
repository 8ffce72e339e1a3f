"""Train the restoration network of keyframe codec av1-lr (cmvc_format/restoration).

    python tools/train_restoration.py                    # prepare + train + export
    python tools/train_restoration.py --steps 100 --out /tmp/try   # a quick try

Stage 1 codes every training picture with the av1 keyframe encoder the
track uses for a random-access keyframe (SVT-AV1, the kept-payload preset,
`--crfs`) and caches the
decoded pictures next to the originals (`--cache`). Data: the photos in
../shared/media/images/train/ (the last 5 held out for validation) and frames
sampled from ../shared/media/video/, as for the lic codec; Kodak is never
read (it is the benchmark's).

Stage 2 trains the network on random crops, one random crf per crop, with
MSE(RGB) + beta * LPIPS-Alex: the MSE term keeps it close to the AV1
picture (PSNR), the LPIPS term lets it restore texture that AV1's large
quantizers smooth away. Seeded: the same command on the same machine gives
the same weights.

Stage 3 exports `av1lr-<sha256[:8]>.safetensors` and a JSON log next to it
(held-out PSNR and LPIPS per crf before and after the network).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmvc_format.restoration.model import WEIGHTS_DIR, save_weights  # noqa: E402
from cmvc_format.restoration.network import Restorer  # noqa: E402
from tools.train_keyframe_codec import SHARED, provenance  # noqa: E402

VALIDATION_PHOTOS = 5
#: Dense where keyframes live (crf 55-63 is ~0.01-0.07 bpp on photos), a few
#: higher qualities so the network learns to leave good pictures alone.
DEFAULT_CRFS = (63, 61, 59, 57, 54, 48, 40)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- stage 1 ------------------------------------------------------------------
def av1_round_trip(rgb: np.ndarray, crf: float) -> tuple[np.ndarray, int]:
    """(decoded picture, payload bytes): the picture coded as the av1 track's
    random-access keyframe (the track's settings: no still-picture mode,
    sharpness 4), as the shipped weights were trained. The same network
    serves av1-lr-intra's still-picture pictures (measured in
    ffmpeg_bridge/keyframe_codecs/av1.py)."""
    from cmvc_format import KeyframePayload
    from ffmpeg_bridge.colors import ColorSpec
    from ffmpeg_bridge.keyframe_codecs.av1 import AV1TrackDecoder, AV1TrackEncoder

    h, w = rgb.shape[:2]
    colors = ColorSpec(matrix=6, primaries=1, transfer=13, range=2)  # what the bench's AVIF uses
    data = AV1TrackEncoder(w, h, colors, crf).encode(rgb, random_access=True)
    decoded = AV1TrackDecoder(colors).decode(KeyframePayload(0, 2, w, h, data))
    return decoded, len(data)


def _round_trip_job(job):
    decoded, size = av1_round_trip(*job)
    return np.ascontiguousarray(decoded), size


def prepare(cache: Path, shared: Path, crfs) -> dict:
    """{"names", "crfs", "pictures" (uint8 [3, h, w]), "decoded" {crf: [...]},
    "bpp" {crf: [...]}}, cached (a cache made with other crfs is rebuilt)."""
    if cache.exists():
        data = torch.load(cache, weights_only=True)
        if list(data["crfs"]) == list(crfs):
            return data
    from multiprocessing import Pool

    from tools.train_keyframe_codec import _pictures

    names, pictures = [], []
    for name, rgb in _pictures(shared):
        names.append(name)
        pictures.append(np.array(rgb[:rgb.shape[0] // 2 * 2, :rgb.shape[1] // 2 * 2]))  # even sizes
    data = {"names": names, "crfs": list(crfs), "decoded": {c: [] for c in crfs}, "bpp": {c: [] for c in crfs},
            "pictures": [torch.from_numpy(p).permute(2, 0, 1).contiguous() for p in pictures]}
    t0 = time.time()
    # SVT-AV1 runs single-threaded here (the track encoder's lp=1): one process per core
    with Pool(os.cpu_count() or 1) as pool:
        jobs = [(p, c) for p in pictures for c in crfs]
        for k, (decoded, size) in enumerate(pool.imap(_round_trip_job, jobs, chunksize=4)):
            (p, c) = jobs[k]
            data["decoded"][c].append(torch.from_numpy(decoded).permute(2, 0, 1).contiguous())
            data["bpp"][c].append(size * 8 / (p.shape[0] * p.shape[1]))
            if k % (10 * len(crfs)) == 0:
                log(f"av1: {k // len(crfs)}/{len(pictures)} pictures {time.time() - t0:.0f}s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, cache)
    return data


def split(names: list[str]) -> tuple[list[int], list[int]]:
    photos = [i for i, n in enumerate(names) if n.startswith("photo:")]
    held = photos[-VALIDATION_PHOTOS:]
    return [i for i in range(len(names)) if i not in held], held


# -- stage 2 ------------------------------------------------------------------
def batch(data: dict, train: list[int], rng: np.random.Generator, size: int, crop: int):
    """(decoded, original) float crops in [0, 1], random crf and mirror per crop."""
    xs, ys = [], []
    crfs = data["crfs"]
    for _ in range(size):
        i = train[rng.integers(len(train))]
        c = crfs[rng.integers(len(crfs))]
        ref, dec = data["pictures"][i], data["decoded"][c][i]
        h, w = ref.shape[1:]
        y0 = int(rng.integers(0, h - crop + 1)) & ~1
        x0 = int(rng.integers(0, w - crop + 1)) & ~1
        a, b = dec[:, y0:y0 + crop, x0:x0 + crop], ref[:, y0:y0 + crop, x0:x0 + crop]
        if rng.random() < 0.5:
            a, b = a.flip(2), b.flip(2)
        xs.append(a)
        ys.append(b)
    return torch.stack(xs).float() / 255, torch.stack(ys).float() / 255


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return -10 * math.log10(max(F.mse_loss(a, b).item(), 1e-12))


@torch.no_grad()
def validate(net: Restorer, lpips, data: dict, held: list[int]) -> list[dict]:
    """Per crf, mean over the held-out pictures (whole, uint8-rounded output)."""
    net.eval()
    rows = []
    for c in data["crfs"]:
        r = []
        for i in held:
            ref = data["pictures"][i][None].float() / 255
            dec = data["decoded"][c][i][None].float() / 255
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = net(dec.contiguous(memory_format=torch.channels_last)).float()
            out = (out.clamp(0, 1) * 255).round() / 255
            r.append((data["bpp"][c][i], _psnr(dec, ref), _psnr(out, ref),
                      lpips(dec, ref).item(), lpips(out, ref).item()))
        m = np.mean(r, axis=0)
        rows.append({"crf": c, "bpp": round(m[0], 5), "psnr_av1": round(m[1], 3), "psnr": round(m[2], 3),
                     "lpips_av1": round(m[3], 4), "lpips": round(m[4], 4)})
    net.train()
    return rows


def train(args, data: dict) -> tuple[Restorer, dict]:
    from ffmpeg_bridge.perceptual.lpips import LPIPS

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_ids, held = split(data["names"])
    train_ids = [i for i in train_ids if min(data["pictures"][i].shape[1:]) >= args.crop]
    if not train_ids or args.crop % 2:
        raise SystemExit(f"error: no training picture holds a {args.crop} px crop (or the crop is odd)")
    net = Restorer(args.channels, args.blocks).to(memory_format=torch.channels_last)
    lpips = LPIPS("alex")
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps, pct_start=0.05)
    history, t0 = [], time.time()
    for step in range(args.steps):
        x, y = batch(data, train_ids, rng, args.batch, args.crop)
        # bfloat16 autocast: ~2x faster on CPUs with native bfloat16; the
        # losses are taken in float32
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net(x.contiguous(memory_format=torch.channels_last)).float()
            perceptual = lpips.distance_from_features(lpips.features(out.clamp(0, 1)), lpips.features(y)).mean()
        mse = F.mse_loss(out, y)
        loss = mse + args.beta * perceptual
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            history.append({"step": step, "mse": round(mse.item(), 6), "lpips": round(perceptual.item(), 4),
                            "s": round(time.time() - t0, 1)})
            log(f"step {step}: mse {mse.item():.5f} lpips {perceptual.item():.4f} {time.time() - t0:.0f}s")
    val = validate(net, lpips, data, held)
    for row in val:
        log(f"held-out crf {row['crf']}: {row['bpp']:.4f} bpp, PSNR {row['psnr_av1']:.2f} -> {row['psnr']:.2f} dB, "
            f"LPIPS {row['lpips_av1']:.4f} -> {row['lpips']:.4f}")
    return net, {"history": history, "validation": val, "train_pictures": len(train_ids),
                 "held_out": [data["names"][i] for i in held], "train_s": round(time.time() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("CMVC_CACHE", Path.home() / ".cache/cmvc")) / "av1lr-train/decoded.pt",
                    help="stage 1 cache (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="export folder (default: the package's)")
    ap.add_argument("--crfs", default=",".join(map(str, DEFAULT_CRFS)), help="SVT-AV1 crfs to train on")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128, help="crop side in pixels (even)")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--beta", type=float, default=0.02, help="LPIPS weight against MSE")
    ap.add_argument("--channels", type=int, default=48)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--prepare-only", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.time()
    crfs = [float(c) if "." in c else int(c) for c in args.crfs.split(",")]
    data = prepare(args.cache, args.shared, crfs)
    if args.prepare_only:
        return 0
    net, info = train(args, data)
    path = save_weights(net, args.out)
    info.update(provenance(args, t0), crfs=crfs,
                options={k: getattr(args, k) for k in ("steps", "batch", "crop", "lr", "beta", "channels", "blocks", "seed")})
    path.with_suffix(".train.json").write_text(json.dumps(info, indent=1) + "\n")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
