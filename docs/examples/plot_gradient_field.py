r"""
A gradient field and directional derivatives
============================================

The gradient :math:`\nabla f` of a function of two variables is a vector at every point of
the plane. Drawn as arrows over the contour lines of :math:`f`, it is perpendicular to them
and points uphill, longest where the contours are closest. Here we compute the whole field
with one reverse-mode pass, then take directional derivatives :math:`D_u f = \nabla f \cdot u`
at one point in several directions with forward mode (:func:`autodiff_ref.jvp`), and check
them against finite differences (:func:`autodiff_ref.numerical.directional`).
"""

import matplotlib.pyplot as plt
import numpy as np

from autodiff_ref import grad, jvp, numerical

# %%
# The function and its gradient by hand
# -------------------------------------
#
# :math:`f(x, y) = \sin x \cos y + x^2 / 10` has
# :math:`\nabla f = (\cos x \cos y + x / 5,\; -\sin x \sin y)`. ``f`` is written with NumPy
# functions: on plain numbers it runs NumPy, on traced values autodiff_ref routes
# ``np.sin`` to its own ``sin``, and on complex numbers it serves the complex-step method.


def f(x, y):
    return np.sin(x) * np.cos(y) + x**2 / 10


def f_vec(p):
    return f(p[0], p[1])


def grad_by_hand(x, y):
    return np.array([np.cos(x) * np.cos(y) + x / 5, -np.sin(x) * np.sin(y)])


for point in [(0.8, 0.6), (-2.0, 1.5), (2.5, -2.9)]:
    assert np.allclose(
        grad(f_vec)(np.array(point)), grad_by_hand(*point), rtol=1e-14, atol=1e-15
    )

# %%
# The gradient field in one pass
# ------------------------------
#
# For grids ``X`` and ``Y`` of points, the scalar ``sum(f(X, Y))`` is a sum of terms that
# each depend on one point only, so its gradient with respect to ``X`` and ``Y`` holds every
# point's own partial derivatives: the entire field from one backward sweep.

Xq, Yq = np.meshgrid(np.linspace(-3, 3, 17), np.linspace(-3, 3, 17))
Gx, Gy = grad(lambda X, Y: np.sum(f(X, Y)), argnums=(0, 1))(Xq, Yq)
assert np.allclose(np.stack([Gx, Gy]), grad_by_hand(Xq, Yq), rtol=1e-14, atol=1e-15)

x = np.linspace(-3.2, 3.2, 241)
X, Y = np.meshgrid(x, x)
fig, ax = plt.subplots(figsize=(6.4, 5.4))
filled = ax.contourf(X, Y, f(X, Y), levels=20, cmap="viridis", alpha=0.45)
ax.contour(X, Y, f(X, Y), levels=20, cmap="viridis", linewidths=0.7)
fig.colorbar(filled, ax=ax, label="$f(x, y)$")
ax.quiver(Xq, Yq, Gx, Gy, angles="xy", color="0.2", width=0.0035)
ax.set_aspect("equal")
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title(r"$\nabla f$ over the contours of $f = \sin x \cos y + x^2/10$")
fig.tight_layout()

# %%
# Directional derivatives at one point
# ------------------------------------
#
# At :math:`p = (0.8, 0.6)` we take eight unit directions
# :math:`u_k = (\cos\phi_k, \sin\phi_k)`, 45 degrees apart. One JVP per direction gives
# :math:`D_{u_k} f(p)`; it must equal :math:`\nabla f(p) \cdot u_k`, the central difference
# of :math:`t \mapsto f(p + t u_k)`, and the complex step of the same. The largest value is
# along the gradient, equal to :math:`\lVert \nabla f(p) \rVert`.

p = np.array([0.8, 0.6])
g = grad(f_vec)(p)
phis = np.deg2rad(np.arange(-180, 180, 45))
print(
    " angle   jvp                 grad . u            central diff.       complex step"
)
rates = []
for phi in phis:
    u = np.array([np.cos(phi), np.sin(phi)])
    rate = jvp(f_vec, (p,), (u,))[1]
    central = numerical.directional(f_vec, p, u)
    complex_step = numerical.directional(f_vec, p, u, method="complex")
    values = [rate, g @ u, central, complex_step]
    print(f"{np.degrees(phi):6.0f}  " + "  ".join(f"{value:+.15f}" for value in values))
    assert np.isclose(rate, g @ u, rtol=1e-13, atol=1e-15)
    assert np.isclose(rate, complex_step, rtol=1e-13, atol=1e-15)
    assert np.isclose(rate, central, rtol=1e-8, atol=1e-10)
    rates.append(rate)
rates = np.array(rates)

# Along the gradient itself the rate is |grad f|, and no direction above beats it.
u_grad = g / np.linalg.norm(g)
steepest = jvp(f_vec, (p,), (u_grad,))[1]
assert np.isclose(steepest, np.linalg.norm(g), rtol=1e-14)
assert np.all(rates <= steepest)
# The direction need not be a unit vector: D_v f is linear in v.
assert np.isclose(jvp(f_vec, (p,), (3 * u_grad,))[1], 3 * steepest, rtol=1e-14)

# %%
# On the left, the eight directions at :math:`p`, coloured by the rate of change along them;
# on the right, the rates against the angle, on the curve
# :math:`\lVert\nabla f\rVert \cos(\phi - \phi_{\nabla f})` that the dot product predicts.

phi_g = np.arctan2(g[1], g[0])
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4.3))
zoom = np.linspace(-0.9, 0.9, 121)
Xz, Yz = np.meshgrid(p[0] + zoom, p[1] + zoom)
ax0.contour(Xz, Yz, f(Xz, Yz), levels=14, colors="0.6", linewidths=0.8)
norm = plt.Normalize(-np.linalg.norm(g), np.linalg.norm(g))
colours = plt.cm.coolwarm(norm(rates))
for phi, colour in zip(phis, colours, strict=True):
    ax0.annotate(
        "",
        xy=p + 0.6 * np.array([np.cos(phi), np.sin(phi)]),
        xytext=p,
        arrowprops=dict(arrowstyle="->", color=colour, lw=2),
    )
ax0.annotate(
    "",
    xy=p + 0.8 * u_grad,
    xytext=p,
    arrowprops=dict(arrowstyle="->", color="k", lw=1.5),
)
ax0.text(*(p + 0.85 * u_grad), r"$\nabla f$", fontsize=12)
ax0.plot(*p, "ko")
fig.colorbar(
    plt.cm.ScalarMappable(norm=norm, cmap="coolwarm"), ax=ax0, label=r"$D_u f(p)$"
)
ax0.set_aspect("equal")
ax0.set_xlabel("$x$")
ax0.set_ylabel("$y$")
ax0.set_title("unit directions at $p$, coloured by $D_u f(p)$")

phi_line = np.linspace(-np.pi, np.pi, 400)
ax1.plot(
    np.degrees(phi_line),
    np.linalg.norm(g) * np.cos(phi_line - phi_g),
    color="0.5",
    label=r"$\|\nabla f\| \cos(\phi - \phi_{\nabla f})$",
)
ax1.plot(np.degrees(phis), rates, "o", color="tab:red", label="jvp")
central_rates = [numerical.directional(f_vec, p, [np.cos(q), np.sin(q)]) for q in phis]
ax1.plot(
    np.degrees(phis), central_rates, "x", color="k", ms=9, label="central difference"
)
ax1.axvline(np.degrees(phi_g), color="k", ls=":", label=r"direction of $\nabla f$")
ax1.axhline(0, color="0.8", lw=0.8)
ax1.set_xlabel(r"angle $\phi$ of $u$ (degrees)")
ax1.set_ylabel(r"$D_u f(p)$")
ax1.set_title("Directional derivative against direction")
ax1.legend(loc="lower center", fontsize=8)
fig.tight_layout()
plt.show()
