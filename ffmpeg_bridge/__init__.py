"""PyAV/FFmpeg I/O, frame generators and command-line tools for CMVC."""
