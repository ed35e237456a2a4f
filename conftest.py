"""Shared pytest setup for the tests, the package's doctests and the docs' examples."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _legacy_scalar_repr():
    # NumPy 2 prints scalars as np.float64(1.0); examples read better as 1.0.
    with np.printoptions(legacy="1.25"):
        yield


# nox -s numerics runs this script (with the docs dependencies): not a test module,
# and --doctest-modules would import it where IPython and threadpoolctl are missing.
collect_ignore = ["tests/run_docs_code.py"]

# Property tests draw the same examples on every machine and every run: a
# failure is reproducible, and CI cannot fail on an example no one else drew.
# HYPOTHESIS_PROFILE=explore draws fresh random examples (and more of them)
# while developing.
try:
    from hypothesis import settings
except ImportError:  # the docs' doctests run without the test dependencies
    pass
else:
    settings.register_profile("deterministic", derandomize=True, database=None)
    settings.register_profile("explore", max_examples=500)
    import os

    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
