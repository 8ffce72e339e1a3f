"""Quality metrics for the benchmark harness, one small module per metric.

psnr, msssim, vmaf, dists, flicker: full-reference metrics against the source
(LPIPS is in ffmpeg_bridge.perceptual: the encoder uses it too).
bdrate: Bjøntegaard delta rate/quality between two rate-quality curves.
"""
