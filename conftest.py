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
