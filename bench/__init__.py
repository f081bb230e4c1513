"""Benchmarks, run as ``python -m bench.NAME [--quick]`` (never collected as tests)."""
