"""Runnable experiments: single runs, benchmarks (and, later, comparisons and sweeps)."""
