"""Quality metrics for the benchmark harness, one small module per metric.

psnr, msssim, vmaf, lpips, dists, flicker: full-reference metrics against the source.
bdrate: Bjøntegaard delta rate/quality between two rate-quality curves.
weights: fetch, verify and cache the third-party network weights (LPIPS, DISTS).
"""
