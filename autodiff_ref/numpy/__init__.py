"""The NumPy namespace of autodiff_ref: ``import autodiff_ref.numpy as anp``.

Each function means NumPy's function of the same name and is differentiable in
every mode: it accepts Python numbers, NumPy arrays and traced values (dual
numbers, reverse-mode nodes, symbolic expressions, program values) and returns
the matching type.  Most are a primitive of :mod:`autodiff_ref.rules`; the
others (``mean``, ``square``, ``dot``, the shape functions, ...) are
compositions of primitives and need no rule of their own.

The namespace is generated from one list, ``autodiff_ref.numpy._ops.__all__``
(``autodiff_ref.numpy._linalg.__all__`` for :mod:`autodiff_ref.numpy.linalg`,
``autodiff_ref.numpy._fft.__all__`` for :mod:`autodiff_ref.numpy.fft`):
the same list routes NumPy's own functions called on traced values
(``np.sin(x)``) to these, as ``autograd.numpy`` and ``jax.numpy`` do.

>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> ad.grad(lambda x: anp.sin(x) * x)(0.0)
0.0
"""

from . import _array_methods, fft, linalg
from ._ops import *  # noqa: F403  # the one list: _ops.__all__
from ._ops import __all__ as _functions

__all__ = [*_functions, "fft", "linalg"]

# Operators (x * y, x[i]) and ndarray methods (x.sum()) of traced values are
# NumPy's API: they are installed on the core's Tracer from here, above it.
_array_methods.install()
