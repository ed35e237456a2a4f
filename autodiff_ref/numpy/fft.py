"""Discrete Fourier transforms, as ``numpy.fft``: ``autodiff_ref.numpy.fft``.

Generated from one list, ``autodiff_ref.numpy._fft.__all__``, which also routes
``numpy.fft`` functions called on traced values here.

>>> import numpy as np
>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> x = np.array([1.0, -2.0, 0.5])
>>> g = ad.grad(lambda x: anp.sum(anp.fft.rfft(x).real))(x)
>>> bool(np.allclose(g, [2.0, 0.0, 0.0]))  # Re rfft sums to 2 x[0] for n = 3
True
"""

from ._fft import *  # noqa: F403  # the one list: _fft.__all__
from ._fft import __all__ as __all__
