"""Benchmark harness: headroom and its peers on the shared corpus (see run.py)."""
