"""Distil TAEF2 into TAEF2-slim (`taef2s`), the pixel transform the keyframe codec ships.

    python tools/distill_taef2.py                      # both halves, export
    python tools/distill_taef2.py --encoder-steps 50 --decoder-steps 20 --out /tmp/try   # a quick try

Why: TAEF2 spends half of its operations in its full-resolution stage (the
encoder's first block, the decoder's last), 64 channels wide. At 768x512 on
2 CPU cores the codec took 1.37 s to encode and decode in bfloat16, against
the 1 s the keyframe codec must meet. The slim variant has 32 channels there
(4x fewer operations in that stage); every other layer is TAEF2's, frozen.

How: each slim stage starts as TAEF2's stage cut to the channels that carry
the most activation on training crops, then learns to reproduce the teacher
where the stage ends:
- encoder: the 64-channel half-resolution features after the stride-2
  convolution (MSE), so the latents the codec sees stay TAEF2's;
- decoder: the RGB output (MSE + beta LPIPS-Alex), given the teacher's
  half-resolution features of either the true latents or the latents the
  shipped codec reconstructs at a random quality level, as in decoding.
Data: the training pictures of tools/train_keyframe_codec.py (its latent
cache; held-out photos only validate). Kodak is never read. Seeded: the same
command on the same machine gives the same weights.

Exports cmvc_format/lic/weights/taef2s-<sha256[:8]>.safetensors (float16,
sorted header) and a JSON log next to it. The keyframe codec's `lic` weights
pin the transform they decode with by its SHA-256; re-export them with
`tools/train_keyframe_codec.py --init <lic> --pixel-steps N` to pin this one
(N = 0 re-pins the same tensors).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmvc_format.lic import taef2  # noqa: E402
from tools.metrics.psnr import psnr_from_mse  # noqa: E402
from tools.train_keyframe_codec import add_data_arguments, log, prepare, provenance, split  # noqa: E402

CROP = 128  # pixels per side of a training crop (16 latent samples)
VAL_SIZE = 512  # held-out pictures are validated on their top-left 512 px (speed)


# -- cutting a stage down to its busiest channels ---------------------------------
class _Recorder:
    """Mean |activation| per channel of the outputs of some modules."""

    def __init__(self, modules: dict):
        self.sums = {}
        self.handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]

    def _hook(self, name):
        def hook(_module, _inputs, out):
            value = out.detach().abs().float().mean(dim=(0, 2, 3))
            self.sums[name] = self.sums.get(name, 0) + value
        return hook

    def busiest(self, name: str, keep: int) -> torch.Tensor:
        return torch.sort(torch.topk(self.sums[name], keep).indices).values

    def close(self):
        for h in self.handles:
            h.remove()


def _cut_block(teacher: taef2._Block, student: taef2._Block, stream, mid1, mid2) -> None:
    """student = teacher restricted to the given residual-stream and inner channels."""
    t, s = teacher.conv, student.conv
    with torch.no_grad():
        s[0].weight.copy_(t[0].weight[mid1][:, stream]), s[0].bias.copy_(t[0].bias[mid1])
        s[2].weight.copy_(t[2].weight[mid2][:, mid1]), s[2].bias.copy_(t[2].bias[mid2])
        s[4].weight.copy_(t[4].weight[stream][:, mid2]), s[4].bias.copy_(t[4].bias[stream])


def _block_hooks(prefix: str, block: taef2._Block) -> dict:
    return {prefix + "mid1": block.conv[1], prefix + "mid2": block.conv[3], prefix + "out": block}


def cut_encoder(teacher: nn.Sequential, top: int, crops: torch.Tensor) -> nn.Sequential:
    student = taef2.build_encoder(top)
    student.load_state_dict({k: v for k, v in teacher.state_dict().items() if not k.startswith(("0.", "1.", "2."))},
                            strict=False)
    rec = _Recorder(_block_hooks("", teacher[1]))
    with torch.no_grad():
        teacher[:2](crops)
    rec.close()
    stream, mid1, mid2 = (rec.busiest(n, top) for n in ("out", "mid1", "mid2"))
    with torch.no_grad():
        student[0].weight.copy_(teacher[0].weight[stream]), student[0].bias.copy_(teacher[0].bias[stream])
        _cut_block(teacher[1], student[1], stream, mid1, mid2)
        student[2].weight.copy_(teacher[2].weight[:, stream])
    return student


def cut_decoder(teacher: nn.Sequential, top: int, features: torch.Tensor) -> nn.Sequential:
    """`features`: teacher[:DECODER_TOP_START] outputs to measure activity on."""
    start = taef2.DECODER_TOP_START
    student = taef2.build_decoder(top)
    tail = tuple(f"{i}." for i in range(start, start + 4))
    student.load_state_dict({k: v for k, v in teacher.state_dict().items() if not k.startswith(tail)},
                            strict=False)
    block = teacher[start + 2]
    rec = _Recorder(_block_hooks("", block))
    with torch.no_grad():
        teacher[start:](features)
    rec.close()
    stream, mid1, mid2 = (rec.busiest(n, top) for n in ("out", "mid1", "mid2"))
    with torch.no_grad():
        student[start + 1].weight.copy_(teacher[start + 1].weight[stream])
        _cut_block(block, student[start + 2], stream, mid1, mid2)
        student[start + 3].weight.copy_(teacher[start + 3].weight[:, stream])
        student[start + 3].bias.copy_(teacher[start + 3].bias)
    return student


# -- data ---------------------------------------------------------------------------
def crops(latents, pictures, rng: np.random.Generator, size: int):
    """Aligned random (latent, picture) crops of CROP pixels, flipped at random
    (pictures None: latents only)."""
    n, s = CROP // taef2.STRIDE, taef2.STRIDE
    lats, pics = [], []
    for _ in range(size):
        i = rng.integers(len(latents))
        lat = latents[i]
        _, h, w = lat.shape
        y, x = rng.integers(max(0, h - n) + 1), rng.integers(max(0, w - n) + 1)
        lat = lat[:, y:y + n, x:x + n].float()
        if pictures is not None:
            pic = pictures[i][:, y * s:(y + n) * s, x * s:(x + n) * s].float() / 255
        else:
            pic = torch.zeros(3, lat.shape[1] * s, lat.shape[2] * s)
        if lat.shape[1:] != (n, n):  # small video frames: replicate edges
            ph, pw = n - lat.shape[1], n - lat.shape[2]
            lat = nn.functional.pad(lat[None], (0, pw, 0, ph), mode="replicate")[0]
            pic = nn.functional.pad(pic[None], (0, pw * s, 0, ph * s), mode="replicate")[0]
        if rng.random() < 0.5:
            lat, pic = lat.flip(-1), pic.flip(-1)
        lats.append(lat), pics.append(pic)
    return torch.stack(lats), torch.stack(pics)


@torch.no_grad()
def reconstruct(codec, lat: torch.Tensor, q: int) -> torch.Tensor:
    """The latent the codec decodes from its rounded code at quality q."""
    return codec.synthesise(torch.round(codec.analyse(lat, q)), q)


def decoder_inputs(lat: torch.Tensor, codec, rng: np.random.Generator) -> torch.Tensor:
    """Per crop, the true latent (1 in 3) or the codec's reconstruction of it at a
    random quality level: the decoder must serve what decoding gives it."""
    if codec is None:
        return lat
    out = []
    for one in lat:
        q = int(rng.integers(-codec.n_quality // 2, codec.n_quality))
        out.append(one if q < 0 else reconstruct(codec, one[None], q)[0])
    return torch.stack(out)


# -- training -------------------------------------------------------------------------
def _fast():
    """bfloat16 autocast where the CPU has it natively (2x faster here), as the codec runs."""
    from cmvc_format.lic.codec import _native_precision

    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=_native_precision(torch) == "bf16")


def _optimiser(params, lr: float, steps: int):
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))

    def step(loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return step


def _fit(name: str, student: nn.Sequential, part: nn.Sequential, steps: int, lr: float,
         loss_of_batch, validate, log_every: int) -> tuple[nn.Sequential, dict]:
    """Train `part` of `student` (the rest frozen) for `steps` steps of
    loss_of_batch(), validating every log_every steps and at the end."""
    student.requires_grad_(False)
    part.requires_grad_(True).train()
    optimise = _optimiser(part.parameters(), lr, steps)
    history, t0 = [], time.time()
    for step in range(steps + 1):
        if step % log_every == 0 or step == steps:
            history.append({"step": step, "seconds": round(time.time() - t0, 1), **validate()})
            log(f"{name} step {step}/{steps} {time.time() - t0:.0f}s {history[-1]}")
        if step == steps:
            break
        with _fast():
            loss = loss_of_batch()
        optimise(loss)
    student.eval().requires_grad_(False)
    return student, {"history": history, "train_seconds": round(time.time() - t0, 1)}


def distil_encoder(args, teacher, train_lat, train_pic, val) -> tuple[nn.Sequential, dict]:
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    _, pic = crops(train_lat, train_pic, rng, 32)
    student = cut_encoder(teacher, args.top, pic)
    head, t_head = student[:taef2.ENCODER_TOP_END], teacher[:taef2.ENCODER_TOP_END]
    validate = encoder_validation(teacher, val)

    def loss_of_batch():
        _, pic = crops(train_lat, train_pic, rng, args.batch)
        with torch.no_grad():
            target = t_head(pic).float()
        return torch.mean((head(pic).float() - target) ** 2)

    return _fit("encoder", student, head, args.encoder_steps, args.lr_encoder, loss_of_batch,
                lambda: validate(student), args.log_every)


@torch.no_grad()
def encoder_validation(teacher, val):
    """validate(student) -> latent error of the whole student encoder on the
    held-out pictures, relative to the latents' own variance (so 0.01 is
    20 dB below them). The teacher's latents are computed once."""
    pairs = [(pic[None].float() / 255, teacher(pic[None].float() / 255)) for pic in val]
    var = float(np.mean([float(torch.var(want)) for _, want in pairs]))

    @torch.no_grad()
    def validate(student) -> dict:
        err = [float(torch.mean((student(x) - want) ** 2)) for x, want in pairs]
        return {"latent_nmse": float(np.mean(err) / var)}
    return validate


def distil_decoder(args, teacher, codec, lpips, train_lat, val) -> tuple[nn.Sequential, dict]:
    start = taef2.DECODER_TOP_START
    rng = np.random.default_rng(args.seed + 1)
    torch.manual_seed(args.seed + 1)
    body, t_tail = teacher[:start], teacher[start:]
    lat, _ = crops(train_lat, None, rng, 32)
    with torch.no_grad():
        student = cut_decoder(teacher, args.top, body(lat))
    tail = student[start:]
    validate = decoder_validation(teacher, codec, val)

    def loss_of_batch():
        lat, _ = crops(train_lat, None, rng, args.batch)
        with torch.no_grad():
            features = body(decoder_inputs(lat, codec, rng))
            target = t_tail(features).float()
        out = tail(features).float()
        loss = torch.mean((out - target) ** 2)
        if args.beta:
            loss = loss + args.beta * lpips.distance_from_features(lpips.features(out), lpips.features(target)).mean()
        return loss

    return _fit("decoder", student, tail, args.decoder_steps, args.lr_decoder, loss_of_batch,
                lambda: validate(student), args.log_every)


@torch.no_grad()
def decoder_validation(teacher, codec, val):
    """validate(student) -> PSNR of the student's pictures against the
    teacher's, from the true held-out latents and from the codec's
    reconstructions at its lowest and highest quality. The inputs and the
    teacher's pictures are computed once."""
    cases = {"latent": [lat[None].float() for lat in val]}
    if codec is not None:
        for q in (0, codec.n_quality - 1):
            cases[f"q{q}"] = [reconstruct(codec, lat, q) for lat in cases["latent"]]
    wanted = {name: [(inp, teacher(inp).clamp(0, 1)) for inp in inputs] for name, inputs in cases.items()}

    @torch.no_grad()
    def validate(student) -> dict:
        out = {}
        for name, pairs in wanted.items():
            mse = np.mean([float(torch.mean((student(inp).clamp(0, 1) - want) ** 2)) for inp, want in pairs])
            out[f"psnr_vs_teacher_{name}"] = round(psnr_from_mse(float(mse), peak=1.0), 2)
        return out
    return validate


# -- export -----------------------------------------------------------------------------
def export(encoder, decoder, teacher_sha: str, out_dir: Path, info: dict) -> Path:
    from cmvc_format.lic.weights_file import write_named_weights

    tensors = {f"{prefix}{k}": v.detach().half().contiguous()
               for prefix, module in (("encoder.", encoder), ("decoder.", decoder))
               for k, v in module.state_dict().items()}
    meta = {"model": "taef2s", "distilled_from_taef2_sha256": teacher_sha,
            "license": "MIT (TAEF2 by Ollin Boer Bohan, see LICENSE-taesd.txt)"}
    path = write_named_weights("taef2s", tensors, meta, out_dir)
    (out_dir / (path.stem + ".train.json")).write_text(json.dumps(info, indent=1) + "\n")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(ap)
    ap.add_argument("--top", type=int, default=32, help="width of the full-resolution stages")
    ap.add_argument("--encoder-steps", type=int, default=3000)
    ap.add_argument("--decoder-steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr-encoder", type=float, default=1e-3)
    ap.add_argument("--lr-decoder", type=float, default=2e-4, help="lower: the cut decoder starts close")
    ap.add_argument("--beta", type=float, default=0.01, help="LPIPS weight next to the decoder's RGB MSE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=500)
    ap.add_argument("--no-codec", action="store_true",
                    help="train the decoder on true latents only (no shipped lic weights needed)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from cmvc_format.lic.weights_file import find_weights, load_codec_weights, load_taef2, sha256_file
    from ffmpeg_bridge.perceptual.lpips import LPIPS

    t0 = time.time()
    data = prepare(args.cache, args.shared)
    train_lat, val_lat = split(data, "latents")
    train_pic, val_pic = split(data, "pictures")
    n = VAL_SIZE // taef2.STRIDE
    val_lat, val_pic = [v[:, :n, :n] for v in val_lat], [v[:, :VAL_SIZE, :VAL_SIZE] for v in val_pic]
    teacher_path = find_weights("taef2")
    t_enc, t_dec = load_taef2(teacher_path)
    codec = None if args.no_codec else load_codec_weights()[0]
    lpips = LPIPS("alex") if args.beta else None
    encoder, enc_info = distil_encoder(args, t_enc, train_lat, train_pic, val_pic)
    decoder, dec_info = distil_decoder(args, t_dec, codec, lpips, train_lat, val_lat)
    info = {"teacher": {"file": teacher_path.name, "sha256": sha256_file(teacher_path)},
            "encoder": enc_info, "decoder": dec_info, **provenance(args, t0)}
    path = export(encoder, decoder, info["teacher"]["sha256"], args.out, info)
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
