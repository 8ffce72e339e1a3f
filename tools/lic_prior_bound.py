#!/usr/bin/env python3
"""How much could a hyperprior save over CMVC-LIC's factorized prior? An upper bound.

For each quality level, codes the held-out training photos (the last 5 of
../shared/media/images/train, as tools/train_keyframe_codec.py holds them out)
and compares the ideal code length of their symbols under the shipped
factorized tables with that under an oracle: a discretised Laplace per symbol
whose scale is the mean |symbol| of its 3x3 neighbourhood in the same channel
(at least 0.05). A hyperprior predicts such scales from side information, so
the oracle, which pays none, bounds what it can gain.

    python tools/lic_prior_bound.py [--lic PATH] [--photos DIR]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def laplace_bits(symbols: np.ndarray, scale: np.ndarray) -> float:
    x = symbols.astype(np.float64)

    def cdf(v):
        return np.where(v < 0, 0.5 * np.exp(v / scale), 1 - 0.5 * np.exp(-v / scale))

    return float(-np.log2(np.maximum(cdf(x + 0.5) - cdf(x - 0.5), 1e-9)).sum())


def main(argv=None) -> int:
    from PIL import Image
    from scipy.ndimage import uniform_filter

    from cmvc_format.lic.codec import load_codec

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lic", type=Path, help="lic weights (default: the shipped ones)")
    ap.add_argument("--photos", type=Path, default=ROOT.parent / "shared/media/images/train")
    args = ap.parse_args(argv)
    codec = load_codec(lic_path=args.lic)
    photos = sorted(args.photos.glob("*.png"))[-5:]
    if not photos:
        print(f"error: no PNG photos in {args.photos}", file=sys.stderr)
        return 2
    latents = [codec.latent(np.asarray(Image.open(p).convert("RGB"))) for p in photos]
    for q in range(codec.n_quality):
        table = codec.tables[q]
        prob = table.frequencies / float(1 << 16)
        factorized = oracle = pixels = 0.0
        for latent in latents:
            symbols = codec.symbols_of_latent(latent, q)
            for c, channel in enumerate(symbols):
                factorized += float(-np.log2(prob[c][channel + table.radius]).sum())
                scale = np.maximum(uniform_filter(np.abs(channel).astype(np.float64), 3, mode="nearest"), 0.05)
                oracle += laplace_bits(channel, scale)
            pixels += latent.shape[2] * latent.shape[3] * 64
        print(f"q{q}: factorized {factorized / pixels:.4f} bpp, oracle local scale {oracle / pixels:.4f} bpp "
              f"({100 * (oracle / factorized - 1):+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
