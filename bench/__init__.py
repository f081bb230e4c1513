"""Benchmarks: ``python -m bench.NAME [--quick]``; last line of output is a JSON object."""
