"""Full-reference metrics of every decoded output of one clip against the reference.

One pass over the frames: each reference frame is read and converted once and
compared with the same frame of every method.  PSNR, MS-SSIM and flicker use every
frame; LPIPS and DISTS (VGG16 at native resolution costs ~100 GFLOP per 640x480
frame) use evenly spaced frames: `deep_frames` for LPIPS-AlexNet (cheap) and
`vgg_frames` for the VGG16-based LPIPS-VGG and DISTS, the reference features computed
once per frame for all methods.  VMAF runs in ffmpeg per method.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from tools.metrics.color import yuv420_to_rgb
from tools.metrics.flicker import TemporalFlicker
from tools.metrics.msssim import ms_ssim_luma
from tools.metrics.psnr import PSNR
from tools.metrics.vmaf import vmaf

from .y4m import Y4M

ALL_METRICS = ("psnr", "msssim", "vmaf", "lpips", "dists", "flicker")


class DeepModels:
    """LPIPS (AlexNet, VGG16) and DISTS, built on first use and reused across clips.

    Only their large convolutions run with `threads` torch threads; everything else
    runs single-threaded: on a shared 2-core machine OpenMP threads spinning over
    small element-wise ops made MS-SSIM ~10x slower with 2 threads than with 1.
    """

    def __init__(self, device: str, metrics: tuple[str, ...], threads: int = 1):
        self.device, self.metrics, self.threads = device, metrics, threads
        self._models: dict[str, torch.nn.Module] | None = None

    def models(self) -> dict[str, torch.nn.Module]:
        if self._models is None:
            from tools.metrics.dists import DISTS
            from ffmpeg_bridge.perceptual.lpips import LPIPS

            self._models = {}
            if "lpips" in self.metrics:
                self._models["lpips_alex"] = LPIPS("alex").to(self.device)
                self._models["lpips_vgg"] = LPIPS("vgg").to(self.device)
            if "dists" in self.metrics:
                self._models["dists"] = DISTS().to(self.device)
        return self._models

    def compare(self, key: str, ref_rgb, dist_rgbs, batch: int) -> list[float]:
        torch.set_num_threads(self.threads)
        try:
            return self.models()[key].compare(ref_rgb, dist_rgbs, batch=batch)
        finally:
            torch.set_num_threads(1)


def deep_frame_indices(n_frames: int, count: int) -> list[int]:
    if count <= 0 or n_frames == 0:
        return []
    if count >= n_frames:
        return list(range(n_frames))
    return sorted({int(round(x)) for x in np.linspace(0, n_frames - 1, count)})


def evaluate_clip(ref: Y4M, decoded: dict[str, Y4M], matrix: str, metrics: tuple[str, ...],
                  deep: DeepModels | None, deep_frames: int, vgg_frames: int, batch: int, device: str,
                  threads: int, log: Callable[[str], None]) -> tuple[dict[str, dict], dict[str, list[int]], dict]:
    """Metrics per method name, per learned metric the frame indices it used, and timings."""
    names = list(decoded)
    n = len(ref)
    psnr = {m: PSNR() for m in names}
    flicker = {m: TemporalFlicker() for m in names}
    msssim: dict[str, list[float]] = {m: [] for m in names}
    deep_vals: dict[str, dict[str, list[float]]] = {m: {} for m in names}
    models = deep.models() if deep and names else {}
    frames_for = {key: set(deep_frame_indices(n, deep_frames if key == "lpips_alex" else vgg_frames))
                  for key in models}
    t0 = time.perf_counter()
    for t in range(n):
        ry, ru, rv = ref.frame(t)
        ref_rgb = yuv420_to_rgb(ry, ru, rv, matrix)
        dist_rgbs, dist_ys = [], []
        for m in names:
            dy, du, dv = decoded[m].frame(t)
            dist_rgb = yuv420_to_rgb(dy, du, dv, matrix)
            if "psnr" in metrics:
                psnr[m].add((ry, ru, rv), (dy, du, dv), ref_rgb, dist_rgb)
            if "flicker" in metrics:
                flicker[m].add(ry, dy)
            dist_ys.append(dy)
            dist_rgbs.append(dist_rgb)
        if "msssim" in metrics and names:
            for m, v in zip(names, ms_ssim_luma(ry, np.stack(dist_ys), device)):
                msssim[m].append(float(v))
        for key in models:
            if t in frames_for[key]:
                for m, v in zip(names, deep.compare(key, ref_rgb, dist_rgbs, batch)):
                    deep_vals[m].setdefault(key, []).append(v)
        if (t + 1) % 10 == 0 or t + 1 == n:
            log(f"  metrics: frame {t + 1}/{n} ({time.perf_counter() - t0:.0f} s)")
    timing = {"frame_metrics_s": round(time.perf_counter() - t0, 2)}
    t_vmaf = time.perf_counter()
    results: dict[str, dict] = {}
    for m in names:
        r: dict = {}
        if "psnr" in metrics:
            r.update(psnr[m].result())
        if "msssim" in metrics:
            r["msssim"] = float(np.mean(msssim[m]))
        if "flicker" in metrics:
            r["flicker"] = flicker[m].result()
        for key, vals in deep_vals[m].items():
            r[key] = float(np.mean(vals))
        if "vmaf" in metrics:
            try:
                r.update(vmaf(ref.path, decoded[m].path, threads))
            except RuntimeError as exc:  # keep the other metrics; the error is in the JSON
                r["vmaf_error"] = str(exc)
                log(f"  {m}: VMAF failed: {exc}")
        results[m] = r
    if "vmaf" in metrics:
        timing["vmaf_s"] = round(time.perf_counter() - t_vmaf, 2)
    return results, {key: sorted(idx) for key, idx in frames_for.items()}, timing
