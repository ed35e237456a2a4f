r"""
The multivariable chain rule along a curve
==========================================

A point travels along the spiral :math:`x(t) = e^{-t/5}\cos 2t`,
:math:`y(t) = e^{-t/5}\sin 2t`, over the surface :math:`z(x, y) = x^2 - y^2 + xy/2`. How fast
does its height change? The chain rule answers

.. math::

   \frac{dz}{dt} = \frac{\partial z}{\partial x}\frac{dx}{dt}
                 + \frac{\partial z}{\partial y}\frac{dy}{dt}.

We evaluate this formula with hand-derived partials, and compare it over the whole time
interval with forward mode (:func:`autodiff_ref.derivative`) and reverse mode
(:func:`autodiff_ref.grad`) applied to the composed function :math:`t \mapsto z(x(t), y(t))`,
which never see the formula.
"""

import matplotlib.pyplot as plt
import numpy as np

from autodiff_ref import derivative, grad, numerical

# %%
# The pieces, and their derivatives by hand
# -----------------------------------------
#
# The functions use NumPy's ``np.exp``, ``np.cos`` and ``np.sin``, which autodiff_ref
# intercepts on traced values, so the same code runs plainly, under forward and reverse
# mode, and on complex numbers for the complex-step check.


def x_of(t):
    return np.exp(-t / 5) * np.cos(2 * t)


def y_of(t):
    return np.exp(-t / 5) * np.sin(2 * t)


def z(x, y):
    return x**2 - y**2 + x * y / 2


def z_of_t(t):
    return z(x_of(t), y_of(t))


def velocity_by_hand(t):
    decay = np.exp(-t / 5)
    dx = decay * (-np.cos(2 * t) / 5 - 2 * np.sin(2 * t))
    dy = decay * (-np.sin(2 * t) / 5 + 2 * np.cos(2 * t))
    return dx, dy


def z_partials_by_hand(x, y):
    return 2 * x + y / 2, -2 * y + x / 2


# %%
# Three ways to dz/dt
# -------------------
#
# ``derivative`` of an elementwise function at an array of times gives the elementwise
# derivative, in one forward pass. For reverse mode we take the gradient of
# ``sum(z_of_t(t))``: each term depends on its own time only, so the gradient is the array
# of :math:`dz/dt` values, from one backward pass.

ts = np.linspace(0, 10, 400)
dx_dt, dy_dt = velocity_by_hand(ts)
dz_dx, dz_dy = z_partials_by_hand(x_of(ts), y_of(ts))
via_x, via_y = dz_dx * dx_dt, dz_dy * dy_dt  # the two paths from t to z
by_formula = via_x + via_y

forward = derivative(z_of_t, ts)
reverse = grad(lambda t: np.sum(z_of_t(t)))(ts)

print(f"max |forward - formula| = {np.max(np.abs(forward - by_formula)):.1e}")
print(f"max |reverse - formula| = {np.max(np.abs(reverse - by_formula)):.1e}")
assert np.allclose(forward, by_formula, rtol=1e-13, atol=1e-14)
assert np.allclose(reverse, by_formula, rtol=1e-13, atol=1e-14)

# Spot checks with scalar inputs, and against the complex-step method, which knows
# nothing of the chain rule or of autodiff_ref.
for t in [0.0, 1.7, 6.25]:
    dz = derivative(z_of_t, t)
    assert np.isclose(dz, grad(z_of_t)(t), rtol=1e-14)
    assert np.isclose(
        dz, numerical.derivative(z_of_t, t, method="complex"), rtol=1e-13, atol=1e-15
    )

# %%
# The path over the surface
# -------------------------
#
# The curve spirals in towards the saddle point of :math:`z` at the origin; its height
# rises while it crosses contours uphill (the velocity has a positive component along
# :math:`\nabla z`) and falls when it crosses them downhill.

s = np.linspace(-1.1, 1.1, 221)
X, Y = np.meshgrid(s, s)
fig, ax = plt.subplots(figsize=(6.4, 5.2))
contours = ax.contour(
    X, Y, z(X, Y), levels=np.linspace(-1.2, 1.2, 13), colors="0.55", linewidths=0.7
)
ax.clabel(contours, fontsize=7)
limit = np.max(np.abs(by_formula))
sc = ax.scatter(
    x_of(ts), y_of(ts), c=by_formula, cmap="coolwarm", s=7, vmin=-limit, vmax=limit
)
fig.colorbar(sc, ax=ax, label="$dz/dt$ along the curve")
ax.plot(x_of(0.0), y_of(0.0), "ko", label="$t = 0$")
ax.set_aspect("equal")
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title(r"The spiral over the contours of $z$, coloured by $dz/dt$")
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# dz/dt over time
# ---------------
#
# Top: the height :math:`z(t)`. Bottom: its rate of change by the formula, with forward and
# reverse mode drawn on top, and the two terms of the chain rule (the paths through
# :math:`x` and through :math:`y`) whose sum it is.

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(7.5, 6), sharex=True)
ax0.plot(ts, z_of_t(ts), color="k")
ax0.set_ylabel("$z(x(t), y(t))$")
ax0.set_title("Height along the curve and its rate of change")
ax1.plot(
    ts, via_x, ":", color="tab:orange", label=r"$\partial z/\partial x \cdot dx/dt$"
)
ax1.plot(
    ts, via_y, ":", color="tab:purple", label=r"$\partial z/\partial y \cdot dy/dt$"
)
ax1.plot(ts, by_formula, color="0.3", lw=3, alpha=0.5, label="chain-rule formula (sum)")
ax1.plot(
    ts[::8], forward[::8], "o", ms=4, mfc="none", color="tab:red", label="forward mode"
)
ax1.plot(ts[4::8], reverse[4::8], "x", ms=4, color="tab:blue", label="reverse mode")
ax1.axhline(0, color="0.8", lw=0.8)
ax1.set_xlabel("$t$")
ax1.set_ylabel("$dz/dt$")
ax1.legend(loc="upper right", fontsize=8, ncol=2)
fig.tight_layout()
plt.show()
