"""Linear algebra, as ``numpy.linalg``: ``autodiff_ref.numpy.linalg``.

Generated from one list, ``autodiff_ref.numpy._linalg.__all__``, which also
routes ``numpy.linalg`` functions called on traced values here.

>>> import numpy as np
>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> ad.grad(anp.linalg.det)(np.array([[2.0, 0.0], [0.0, 3.0]]))  # det(A) A^-T
array([[3., 0.],
       [0., 2.]])
"""

from ._linalg import *  # noqa: F403  # the one list: _linalg.__all__
from ._linalg import __all__ as __all__
