"""Encoder analysis tests (a package so that test_motion.py does not clash with
tests/generators/test_motion.py under pytest's default import mode)."""
