"""Perceptual distance (LPIPS) inside the package: the encoder's rate control
scores candidate keyframe spacings with it (``estimate.py``), and the
benchmarks in tools/ measure with the same code.  Needs torch."""
