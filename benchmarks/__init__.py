"""Benchmarks of autodiff_ref against its peers: ``nox -s bench`` (see run.py)."""
