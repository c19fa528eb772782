"""Benchmarks run by `make bench` (python -m bench). Each module prints its own figures."""
