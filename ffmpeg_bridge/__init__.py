"""PyAV/FFmpeg I/O, frame generators and command-line tools for CMVC."""

__version__ = "0.1.0"
