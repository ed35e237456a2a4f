"""Checks of the built site in a browser, run by ``nox -s browser`` (see conftest.py)."""
