"""Raw errors turned into NumPy's own or clear ones (issue 18, item 6).

Each bad call used to fail deep inside the package with a message that named no
cause ("object of type 'float' has no len()", "could not convert string to
float", ZeroDivisionError, RecursionError).  Each test matches the message that
now names the argument and the fix.  Where a NumPy keyword is now supported, its
values are checked against NumPy and its derivatives against the other mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad

NOT_CALLABLE: dict[str, Callable[[], Any]] = {
    "jit": lambda: ad.jit(3),
    "linearize": lambda: ad.linearize(3, 1.0),
    "linear_transpose": lambda: ad.linear_transpose(3, 1.0),
    "make_program": lambda: ad.make_program(3),
    "jet": lambda: ad.jet(3, (1.0,), ((1.0,),)),
    "custom_jvp": lambda: ad.custom_jvp(3),
    "custom_vjp": lambda: ad.custom_vjp(3),
    "checkpoint": lambda: ad.checkpoint(3),
    "tree_map": lambda: ad.tree.tree_map(3, (1.0, 2.0)),
}


@pytest.mark.parametrize("name", list(NOT_CALLABLE))
def test_non_callables_are_refused_when_wrapped(name: str) -> None:
    with pytest.raises(
        TypeError, match=rf"^{name} needs a function as its first argument, but got an int"
    ):
        NOT_CALLABLE[name]()
