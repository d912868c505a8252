"""Benchmarks: ``nox -s bench`` (``python -m tests.bench``). Not collected by pytest."""
