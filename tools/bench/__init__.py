"""Benchmark harness: classical anchors (and, later, CMVC methods) against the source clip.

python -m tools.bench --help
"""
