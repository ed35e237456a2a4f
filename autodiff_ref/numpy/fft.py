"""Discrete Fourier transforms, as ``numpy.fft``: ``autodiff_ref.numpy.fft``.

Generated from one list, ``autodiff_ref.numpy._fft.__all__``, which also routes
``numpy.fft`` functions called on traced values here.

>>> import numpy as np
>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> x = np.array([1.0, -2.0, 0.5, 4.0])
>>> g = ad.grad(lambda x: anp.sum(anp.fft.irfft(anp.fft.rfft(x), n=4) ** 2))(x)
>>> bool(np.allclose(g, 2 * x))  # irfft(rfft(x)) is x: the gradient of sum(x**2)
True
"""

from ._fft import *  # noqa: F403  # the one list: _fft.__all__
from ._fft import __all__ as __all__
