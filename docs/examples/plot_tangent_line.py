r"""
The tangent line of sin at x0 = 1
=================================

The derivative of a function at a point is the slope of its tangent line there.
Here we estimate that slope for :math:`\sin` at :math:`x_0 = 1` with a central
difference, check it against the exact derivative :math:`\cos(1)`, and draw
the curve together with the line :math:`y = \sin(x_0) + s\,(x - x_0)`.
"""

import matplotlib.pyplot as plt
import numpy as np

# %%
# The slope from a central difference
# -----------------------------------
#
# :math:`s \approx \frac{\sin(x_0 + h) - \sin(x_0 - h)}{2h}` has error
# :math:`O(h^2)` from truncation and :math:`O(\varepsilon / h)` from rounding;
# :math:`h \approx \varepsilon^{1/3}` balances the two.

x0 = 1.0
h = np.cbrt(np.finfo(float).eps)
slope = (np.sin(x0 + h) - np.sin(x0 - h)) / (2 * h)
exact = np.cos(x0)
print(f"central difference: {slope:.16f}")
print(f"cos(1):             {exact:.16f}")
print(f"error:              {abs(slope - exact):.1e}")
assert abs(slope - exact) < 1e-8

# %%
# The curve and its tangent
# -------------------------

x = np.linspace(-np.pi, np.pi, 400)
tangent = np.sin(x0) + slope * (x - x0)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x, np.sin(x), label=r"$\sin x$")
ax.plot(x, tangent, "--", label=rf"tangent at $x_0 = {x0:g}$, slope $\approx {slope:.6f}$")
ax.plot([x0], [np.sin(x0)], "o", color="black")
ax.set_ylim(-1.5, 1.5)
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.axhline(0, color="gray", linewidth=0.5)
ax.legend(loc="lower right")
ax.set_title("A derivative is the slope of the tangent line")
fig.tight_layout()
plt.show()
