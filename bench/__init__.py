"""Benchmarks and tuning tools run on demand (``make bench``); never part of the test suite."""
