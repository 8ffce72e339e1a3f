"""Train the learned keyframe codec (cmvc_format/lic) and export its weights.

    python tools/train_keyframe_codec.py                  # prepare + train + export
    python tools/train_keyframe_codec.py --steps 200 --out /tmp/try   # a quick try

Stage 1 encodes the training pictures with the frozen TAEF2 encoder once and
caches the latents (`--cache`); the codec's TAEF2-slim encoder reproduces
them (tools/distill_taef2.py). Data: every photo in
../shared/media/images/train/ (a few held out for validation) and frames
sampled from the videos in ../shared/media/video/. Kodak is never read here:
it is the benchmark's.

Stage 2 trains the latent autoencoder and its priors with a rate-distortion
loss, bpp + lambda_q * MSE(latent), one lambda per quality level; the code is
rounded with a straight-through estimator for the distortion and relaxed with
uniform noise for the rate. Everything is seeded: the same command on the
same machine gives the same weights.

Stage 2b fine-tunes the whole latent codec (the pixel transform stays frozen)
with the loss measured where it matters, in pixels after the decoder of the
pixel transform (`--transform`, default the shipped TAEF2-slim):
bpp + lambda_q * (MSE(RGB) + beta * LPIPS-Alex), on random 128 px crops.
The latent MSE of stage 2 weighs every latent channel alike, but the decoder
does not: trained on it alone the codec lost colour at low rates (Kodak
kodim02 at 0.03 bpp decoded with a mean of (118, 87, 76) for (143, 56, 31)).
`--init WEIGHTS` starts stage 2b from exported weights and skips stage 2;
with `--pixel-steps 0` it only re-exports them pinned to `--transform`.

Stage 3 exports `cmvc_format/lic/weights/lic-<sha256[:8]>.safetensors`: the
transforms, the gains, and the integer frequency tables the range coder uses
(see cmvc_format/lic/entropy.py), plus a JSON training log next to it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmvc_format.lic import taef2  # noqa: E402
from cmvc_format.lic.codec import BLOCK, pad_to_multiple  # noqa: E402
from cmvc_format.lic.transforms import CODE_STRIDE, LatentCodec  # noqa: E402
from tools.metrics.psnr import psnr_from_mse  # noqa: E402

SHARED = ROOT.parent / "shared"
CROP = 32                  # latent samples per side of a training crop (256 px)
VALIDATION_PHOTOS = 5      # the last photos (sorted by name) are held out
VIDEO_FRAMES = {"default": 40, "asl_gestures": 3}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- stage 1: latents ---------------------------------------------------------
def _pictures(shared: Path):
    """(name, HxWx3 uint8) for every training picture, in a fixed order."""
    from PIL import Image
    import av

    photos = sorted((shared / "media/images/train").glob("*.png"))
    for path in photos:
        yield "photo:" + path.name, np.asarray(Image.open(path).convert("RGB"))
    videos = sorted((shared / "media/video").rglob("*.mp4")) + sorted((shared / "media/video").rglob("*.mkv"))
    for path in videos:
        wanted = VIDEO_FRAMES.get(path.parent.name, VIDEO_FRAMES["default"])
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        for i in np.linspace(0, len(frames) - 1, min(wanted, len(frames))).round().astype(int):
            yield f"video:{path.name}#{i}", frames[i]


def prepare(cache: Path, shared: Path) -> dict:
    """{"names", "latents" (float16 [32, h/8, w/8]), "pictures" (uint8
    [3, h, w], padded like the codec pads)}, cached."""
    if cache.exists():
        return torch.load(cache, weights_only=True)
    from cmvc_format.lic.weights_file import load_taef2

    encoder, _ = load_taef2()
    names, latents, pictures = [], [], []
    t0 = time.time()
    for name, rgb in _pictures(shared):
        rgb = pad_to_multiple(rgb, BLOCK)
        pictures.append(torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous())
        with torch.inference_mode():
            latents.append(encoder(pictures[-1][None].float() / 255)[0].half())
        names.append(name)
        log(f"latents: {len(names)} {name} {tuple(latents[-1].shape)} {time.time() - t0:.0f}s")
    data = {"names": names, "latents": latents, "pictures": pictures}
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, cache)
    return data


def split(data: dict, key: str = "latents"):
    photos = [i for i, n in enumerate(data["names"]) if n.startswith("photo:")]
    held = set(photos[-VALIDATION_PHOTOS:])
    train = [data[key][i] for i in range(len(data["names"])) if i not in held]
    val = [data[key][i] for i in sorted(held)]
    return train, val


# -- stage 2: training ----------------------------------------------------------
def block_klt(latents, keep: int):
    """Leading eigenvectors of the covariance of 4x4 latent blocks (the KLT)
    and the block mean, in float64 for a stable, repeatable decomposition."""
    k = CODE_STRIDE
    rows = []
    for lat in latents:
        c, h, w = lat.shape
        b = lat[:, :h - h % k, :w - w % k].double()
        rows.append(b.reshape(c, h // k, k, w // k, k).permute(1, 3, 0, 2, 4).reshape(-1, c * k * k))
    x = torch.cat(rows)
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / (len(x) - 1)
    values, vectors = torch.linalg.eigh(cov)
    order = torch.argsort(values, descending=True)[:keep]
    vectors = vectors[:, order]
    # eigh's sign per vector is arbitrary: fix it so the export is repeatable.
    vectors = vectors * torch.sign(vectors[vectors.abs().argmax(0), torch.arange(keep)])
    log(f"KLT: {keep} of {x.shape[1]} components keep {float(values[order].sum() / values.sum()):.3f} of the variance")
    return vectors, mean


def lambdas(n_quality: int, low: float, high: float) -> list[float]:
    return [low * (high / low) ** (q / (n_quality - 1)) for q in range(n_quality)]


def batch(train, rng: np.random.Generator, size: int) -> torch.Tensor:
    crops = []
    for _ in range(size):
        lat = train[rng.integers(len(train))]
        _, h, w = lat.shape
        if h < CROP or w < CROP:  # small video frames (carphone): replicate edges
            lat = torch.nn.functional.pad(lat[None].float(), (0, max(0, CROP - w), 0, max(0, CROP - h)),
                                          mode="replicate")[0]
            _, h, w = lat.shape
        y, x = rng.integers(h - CROP + 1), rng.integers(w - CROP + 1)
        crop = lat[:, y:y + CROP, x:x + CROP]
        if rng.random() < 0.5:
            crop = crop.flip(-1)
        crops.append(crop)
    return torch.stack(crops).float()


def code_and_bpp(model: LatentCodec, lat: torch.Tensor, q: int, train: bool):
    """(code rounded with a straight-through gradient, bits per pixel): the
    rate is measured on the code relaxed with uniform noise when training,
    on the rounded code otherwise."""
    code = model.analyse(lat, q)
    rounded = code + (torch.round(code) - code).detach()
    relaxed = code + torch.empty_like(code).uniform_(-0.5, 0.5) if train else torch.round(code)
    bits = -torch.log2(model.likelihood(relaxed, q)).sum()
    return rounded, bits / (lat.shape[0] * lat.shape[2] * lat.shape[3] * taef2.STRIDE ** 2)


def rd_terms(model: LatentCodec, lat: torch.Tensor, q: int, train: bool):
    rounded, bpp = code_and_bpp(model, lat, q, train)
    return bpp, torch.mean((model.synthesise(rounded, q) - lat) ** 2)


def optimiser(model: LatentCodec, lr: float, fast_factor: float, steps: int):
    """Adam with a one-cycle schedule; the priors and gains are a few numbers
    per channel that must move far (a logistic of scale 1 costs 2 bits even
    for an all-zero channel), so they learn fast_factor times faster than the
    transforms. Returns step(loss)."""
    fast = [p for n, p in model.named_parameters() if n.startswith(("prior_", "log_"))]
    slow = [p for n, p in model.named_parameters() if not n.startswith(("prior_", "log_"))]
    opt = torch.optim.Adam([{"params": slow}, {"params": fast}], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[lr, fast_factor * lr], total_steps=steps,
                                                pct_start=0.05, final_div_factor=20)

    def step(loss: torch.Tensor) -> None:
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    return step


@torch.no_grad()
def validate(model: LatentCodec, val) -> list[dict]:
    rows = []
    for q in range(model.n_quality):
        bpp, mse = [], []
        for lat in val:
            b, d = rd_terms(model, lat[None].float(), q, train=False)
            bpp.append(float(b)), mse.append(float(d))
        rows.append({"quality": q, "bpp": float(np.mean(bpp)), "latent_mse": float(np.mean(mse))})
    return rows


def train(args, data: dict) -> tuple[LatentCodec, dict]:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_set, val_set = split(data)
    model = LatentCodec(n_quality=args.qualities, code=args.code_channels)
    basis, mean = block_klt(train_set, model.code_channels)
    model.init_block_transform(basis, mean)
    lam = lambdas(args.qualities, args.lambda_low, args.lambda_high)
    optimise = optimiser(model, args.lr, 20, args.steps)
    history, t0 = [], time.time()
    for step in range(1, args.steps + 1):
        q = (step - 1) % args.qualities
        lat = batch(train_set, rng, args.batch)
        bpp, mse = rd_terms(model, lat, q, train=True)
        optimise(bpp + lam[q] * mse)
        if step % args.log_every == 0 or step == args.steps:
            val = validate(model, val_set)
            history.append({"step": step, "seconds": round(time.time() - t0, 1), "validation": val})
            log(f"step {step}/{args.steps} {time.time() - t0:.0f}s  " + "  ".join(
                f"q{r['quality']}:{r['bpp']:.4f}/{r['latent_mse']:.3f}" for r in val))
    return model, {"lambdas": lam, "history": history, "train_seconds": round(time.time() - t0, 1),
                   "train_pictures": len(train_set), "validation_pictures": len(val_set)}


# -- stage 2b: fine-tuning in pixels ------------------------------------------------
PIXEL_CROP = 16            # latent samples per side of a stage-2b crop (128 px)


def pixel_batch(latents, pictures, rng: np.random.Generator, size: int):
    """Aligned (latent, picture) crops. Offsets are multiples of the code
    stride, so the crops see the code grid the codec uses on whole pictures;
    the latents are those of the whole picture, as when coding it."""
    k, s = CODE_STRIDE, taef2.STRIDE
    lats, pics = [], []
    for _ in range(size):
        i = rng.integers(len(latents))
        lat, pic = latents[i], pictures[i]
        _, h, w = lat.shape
        # cropped first, converted after: the pictures are megapixels
        y = k * rng.integers(max(0, h - PIXEL_CROP) // k + 1)
        x = k * rng.integers(max(0, w - PIXEL_CROP) // k + 1)
        lat = lat[:, y:y + PIXEL_CROP, x:x + PIXEL_CROP].float()
        pic = pic[:, y * s:(y + PIXEL_CROP) * s, x * s:(x + PIXEL_CROP) * s].float() / 255
        _, h, w = lat.shape
        if h < PIXEL_CROP or w < PIXEL_CROP:  # small video frames: replicate edges
            ph, pw = PIXEL_CROP - h, PIXEL_CROP - w
            lat = torch.nn.functional.pad(lat[None], (0, pw, 0, ph), mode="replicate")[0]
            pic = torch.nn.functional.pad(pic[None], (0, pw * s, 0, ph * s), mode="replicate")[0]
        if rng.random() < 0.5:
            lat, pic = lat.flip(-1), pic.flip(-1)
        lats.append(lat), pics.append(pic)
    return torch.stack(lats), torch.stack(pics)


def pixel_terms(model: LatentCodec, decoder, lpips, lat, pic, q: int, train: bool):
    """(bpp, RGB MSE in [0, 1] units, mean LPIPS, decoded pixels)."""
    rounded, bpp = code_and_bpp(model, lat, q, train)
    out = decoder(model.synthesise(rounded, q))
    if not train:
        out = out.clamp(0, 1)
    mse = torch.mean((out - pic) ** 2)
    perceptual = lpips.distance_from_features(lpips.features(out), lpips.features(pic)).mean()
    return bpp, mse, perceptual, out


@torch.no_grad()
def validate_pixels(model, decoder, lpips, val_lat, val_pic) -> list[dict]:
    rows = []
    for q in range(model.n_quality):
        bpp, psnr, lp = [], [], []
        for lat, pic in zip(val_lat, val_pic):
            b, m, p, _ = pixel_terms(model, decoder, lpips, lat[None].float(), pic[None].float() / 255, q, False)
            bpp.append(float(b)), psnr.append(psnr_from_mse(float(m), peak=1.0)), lp.append(float(p))
        rows.append({"quality": q, "bpp": float(np.mean(bpp)), "psnr": float(np.mean(psnr)),
                     "lpips": float(np.mean(lp))})
    return rows


def versus_anchor(means: dict, val: list[dict]) -> dict:
    """LPIPS BD-rate (<= 0.05 bpp) and PSNR gap of the validation points against
    the "means" of a tools/bench_keyframe_codec.py results.json of the same held-out photos
    (e.g. `--images <the 5 held-out photos> --methods avif`), as the bench
    computes them on Kodak. The validation bpp are ideal code lengths."""
    from tools import bench_keyframe_codec as bench

    ours = [{"bpp": r["bpp"], "psnr": r["psnr"], "lpips": r["lpips"]} for r in val]
    table = bench.bd_table({bench.ANCHOR: means[bench.ANCHOR], "cmvc-lic": ours}, ["lpips"])
    gap = bench.psnr_gap(means[bench.ANCHOR], ours)
    return {"lpips_bd_rate_le_0.05": table["cmvc-lic"]["lpips"][f"le_{bench.LOW_BPP}"],
            "lpips_bd_rate_full": table["cmvc-lic"]["lpips"]["full"], "psnr_gap_db": gap["mean_db"]}


def train_pixels(args, data: dict, model: LatentCodec) -> tuple[LatentCodec, dict]:
    from cmvc_format.lic.weights_file import load_taef2
    from ffmpeg_bridge.perceptual.lpips import LPIPS

    torch.manual_seed(args.seed + 1)
    rng = np.random.default_rng(args.seed + 1)
    train_lat, val_lat = split(data, "latents")
    train_pic, val_pic = split(data, "pictures")
    _, decoder = load_taef2(args.transform)
    lpips = LPIPS("alex")
    model.train().requires_grad_(True)
    lam = lambdas(args.qualities, args.pixel_lambda_low, args.pixel_lambda_high)
    optimise = optimiser(model, args.pixel_lr, 10, args.pixel_steps)
    anchor = json.loads(args.anchor.read_text())["means"] if args.anchor else None
    history, t0 = [], time.time()

    def checkpoint(step: int) -> None:
        model.eval()
        val = validate_pixels(model, decoder, lpips, val_lat, val_pic)
        model.train()
        entry = {"step": step, "seconds": round(time.time() - t0, 1), "validation": val}
        if anchor:
            entry["vs_anchor"] = versus_anchor(anchor, val)
            log(f"vs anchor: {entry['vs_anchor']}")
        history.append(entry)
        log(f"pixels step {step}/{args.pixel_steps} {time.time() - t0:.0f}s  " + "  ".join(
            f"q{r['quality']}:{r['bpp']:.4f}/{r['psnr']:.2f}/{r['lpips']:.3f}" for r in val))
        if args.checkpoints:
            args.checkpoints.mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), args.checkpoints / f"pixels-{step}.pt")

    checkpoint(0)  # where stage 2 left it
    for step in range(1, args.pixel_steps + 1):
        q = (step - 1) % args.qualities
        lat, pic = pixel_batch(train_lat, train_pic, rng, args.pixel_batch)
        bpp, mse, perceptual, _ = pixel_terms(model, decoder, lpips, lat, pic, q, True)
        optimise(bpp + lam[q] * (mse + args.beta * perceptual))
        if step % args.pixel_log_every == 0 or step == args.pixel_steps:
            checkpoint(step)
    model.eval().requires_grad_(False)
    return model, {"lambdas": lam, "beta": args.beta, "history": history,
                   "train_seconds": round(time.time() - t0, 1)}


# -- stage 3: export --------------------------------------------------------------
def export(model: LatentCodec, out_dir: Path, info: dict, transform: Path | None = None) -> Path:
    from cmvc_format.lic.weights_file import save_codec_weights

    path = save_codec_weights(model, out_dir, transform)
    (out_dir / (path.stem + ".train.json")).write_text(json.dumps(info, indent=1) + "\n")
    return path


def add_data_arguments(ap: argparse.ArgumentParser) -> None:
    """--shared, --cache, --out: where the training tools read and write."""
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("CMVC_CACHE", Path.home() / ".cache/cmvc")) / "lic-train/latents-pictures.pt")
    ap.add_argument("--out", type=Path, default=ROOT / "cmvc_format/lic/weights")


def provenance(args, t0: float) -> dict:
    """Command, arguments, hardware and run time, for a training log."""
    return {"command": " ".join(sys.argv), "args": {k: str(v) for k, v in vars(args).items()},
            "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                        f"torch {torch.__version__} threads {torch.get_num_threads()}",
            "total_seconds": round(time.time() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(ap)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--qualities", type=int, default=8)
    ap.add_argument("--code-channels", type=int, default=128)
    ap.add_argument("--lambda-low", type=float, default=0.03)
    ap.add_argument("--lambda-high", type=float, default=10.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=250)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--init", type=Path, help="start stage 2b from these exported weights (skips stage 2)")
    ap.add_argument("--pixel-steps", type=int, default=1500, help="stage 2b steps (0: skip it)")
    ap.add_argument("--pixel-batch", type=int, default=8)
    ap.add_argument("--pixel-lambda-low", type=float, default=1.5)
    ap.add_argument("--pixel-lambda-high", type=float, default=1000.0)
    ap.add_argument("--beta", type=float, default=0.008, help="LPIPS weight next to RGB MSE in stage 2b")
    ap.add_argument("--pixel-lr", type=float, default=1e-4)
    ap.add_argument("--pixel-log-every", type=int, default=500)
    ap.add_argument("--checkpoints", type=Path, help="also save stage 2b's state at every validation here")
    ap.add_argument("--anchor", type=Path, help="bench results.json of the held-out photos to compare with")
    ap.add_argument("--transform", type=Path,
                    help="pixel transform stage 2b decodes through and the export pins "
                         "(default: the shipped TAEF2-slim, cmvc_format/lic/weights/taef2s-*)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.transform is None:
        from cmvc_format.lic.weights_file import PIXEL_TRANSFORM, find_weights

        args.transform = find_weights(PIXEL_TRANSFORM)
    from cmvc_format.lic.weights_file import sha256_file

    t0 = time.time()
    data = prepare(args.cache, args.shared)
    if args.prepare_only:
        return 0
    if args.init:
        from cmvc_format.lic.weights_file import load_codec_weights

        model, _, _, _ = load_codec_weights(args.init)
        info = {"init": {"file": args.init.name, "sha256": sha256_file(args.init)}}
    else:
        model, info = train(args, data)
    if args.pixel_steps:
        model, info["pixels"] = train_pixels(args, data, model)
    info.update(provenance(args, t0))
    args.out.mkdir(parents=True, exist_ok=True)
    info["transform"] = {"file": args.transform.name, "sha256": sha256_file(args.transform)}
    path = export(model, args.out, info, args.transform)
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
