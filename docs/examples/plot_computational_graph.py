r"""
The computational graph of (x + y) · z
======================================

Reverse mode runs a function once, records every elementary operation as a node of a graph,
and then walks the graph backwards from the output, giving each node its *adjoint*
:math:`\bar v_i = \partial y / \partial v_i`. We draw the graph of
:math:`f(x, y, z) = (x + y)\,z` with :func:`autodiff_ref.draw_graph`, each node labelled with
its value and adjoint, check the adjoints of the inputs against the partial derivatives worked
out by hand, and then draw the larger example of Baydin et al. (2018),
:math:`\ln x_1 + x_1 x_2 - \sin x_2`, with the local derivative of each operation on its edges.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp

# %%
# Values forward, adjoints backward
# ---------------------------------
#
# The forward pass computes :math:`v_1 = x + y = 3` and :math:`v_2 = v_1 z = 9`. The backward
# pass starts from :math:`\bar v_2 = 1`. The product gives each factor the other one:
# :math:`\bar v_1 = \bar v_2\, z = 3` and :math:`\bar z = \bar v_2\, v_1 = 3`. The sum passes
# its adjoint unchanged to both summands: :math:`\bar x = \bar y = \bar v_1 = 3`.


def f(x, y, z):
    return (x + y) * z


point = (1.0, 2.0, 3.0)
ax = ad.draw_graph(f, *point)
ax.set_title("$(x + y)\\,z$ at $(1, 2, 3)$")

# %%
# Checking the adjoints
# ---------------------
#
# By hand, :math:`\partial f/\partial x = \partial f/\partial y = z` and
# :math:`\partial f/\partial z = x + y`. At :math:`(1, 2, 3)` all three equal 3, so we check a
# second point where they differ, and compare with :func:`autodiff_ref.grad` and with forward
# mode (:func:`autodiff_ref.jvp` along each unit vector).


def partials_by_hand(x, y, z):
    return np.array([z, z, x + y])


for p in [point, (-2.0, 5.0, -4.0)]:
    adjoints = np.array(ad.trace_evaluation(f, *p).gradient, dtype=float)
    by_grad = np.array(ad.grad(f, argnums=(0, 1, 2))(*p))
    by_forward = np.array([ad.jvp(f, p, tuple(e))[1] for e in np.eye(3)])
    print(f"at {p}: adjoints of x, y, z = {adjoints}")
    np.testing.assert_allclose(adjoints, partials_by_hand(*p), rtol=1e-15)
    np.testing.assert_allclose(by_grad, partials_by_hand(*p), rtol=1e-15)
    np.testing.assert_allclose(by_forward, partials_by_hand(*p), rtol=1e-15)

# %%
# A larger graph: the example of Baydin et al.
# --------------------------------------------
#
# Written as explicit steps, :math:`\ln x_1 + x_1 x_2 - \sin x_2` has the rows of Table 3 of
# Baydin et al. (2018). Each edge now shows the local derivative
# :math:`\partial v_i / \partial v_j` of the operation it enters. An input's adjoint is the sum,
# over its outgoing edges, of that label times the adjoint at the edge's head: at
# :math:`(2, 5)`, :math:`\bar x_1 = 1/x_1 + x_2 = 5.5` and
# :math:`\bar x_2 = x_1 - \cos x_2 \approx 1.716`.


def f_baydin(x1, x2):
    v1 = anp.log(x1)
    v2 = x1 * x2
    v3 = anp.sin(x2)
    return v1 + v2 - v3


tr = ad.trace_evaluation(f_baydin, 2.0, 5.0)
print(tr)
x1_bar, x2_bar = (float(a) for a in tr.gradient)
np.testing.assert_allclose(
    [x1_bar, x2_bar], [1 / 2.0 + 5.0, 2.0 - np.cos(5.0)], rtol=1e-15
)
assert round(x1_bar, 3) == 5.5 and round(x2_bar, 3) == 1.716

ax = ad.draw_graph(f_baydin, 2.0, 5.0, show_derivatives=True)
ax.set_title(
    "$\\ln x_1 + x_1 x_2 - \\sin x_2$ at $(2, 5)$, local derivatives on the edges"
)

plt.show()
