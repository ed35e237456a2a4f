r"""
Dual numbers shear, complex numbers rotate
==========================================

A dual number :math:`a + b\varepsilon` (:math:`\varepsilon^2 = 0`) and a complex number
:math:`a + bi` (:math:`i^2 = -1`) are both real :math:`2 \times 2` matrices:
:math:`\begin{bmatrix} a & b \\ 0 & a \end{bmatrix}` and
:math:`\begin{bmatrix} a & -b \\ b & a \end{bmatrix}`. Multiplying numbers is multiplying
matrices, which we check on random numbers with :class:`autodiff_ref.Dual`. As maps of the
plane the two matrices look nothing alike: the dual one scales and *shears*, keeping a
single direction fixed, while the complex one scales and *rotates*, keeping none. Repeated
multiplication shows the difference once more: powers of a dual number drift sideways at the
rate the power rule gives (the tangent of :math:`(a + b\varepsilon)^k` is
:math:`k a^{k-1} b`), while powers of a complex number spiral around the origin.
"""

import matplotlib.pyplot as plt
import numpy as np

from autodiff_ref import Dual

rng = np.random.default_rng(7)


def complex_matrix(z: complex) -> np.ndarray:
    """The real 2 x 2 matrix of multiplication by z = a + bi."""
    return np.array([[z.real, -z.imag], [z.imag, z.real]])


# %%
# Products of numbers are products of matrices
# ---------------------------------------------
#
# :meth:`autodiff_ref.Dual.to_matrix` gives :math:`\begin{bmatrix} a & b \\ 0 & a
# \end{bmatrix}`; the product of two such matrices is the matrix of the dual product
# :math:`ac + (ad + bc)\varepsilon`, and :meth:`~autodiff_ref.Dual.from_matrix` reads it
# back. The same holds for complex numbers with their own matrices.

for _ in range(200):
    a, b, c, d = rng.normal(size=4)
    x, y = Dual(a, b), Dual(c, d)
    np.testing.assert_allclose(
        x.to_matrix() @ y.to_matrix(), (x * y).to_matrix(), rtol=1e-13
    )
    product = Dual.from_matrix(x.to_matrix() @ y.to_matrix())
    assert np.isclose(product.primal, a * c) and np.isclose(
        product.tangent, a * d + b * c
    )

    z, w = complex(a, b), complex(c, d)
    np.testing.assert_allclose(
        complex_matrix(z) @ complex_matrix(w),
        complex_matrix(z * w),
        rtol=1e-13,
        atol=1e-15,
    )
print("matrix products agree with dual and complex products on 200 random pairs")

# %%
# Eigen-structure: one fixed direction, or none
# ---------------------------------------------
#
# The dual matrix is upper triangular with :math:`a` twice on the diagonal, so both its
# eigenvalues are :math:`a`; for :math:`b \neq 0`, :math:`M - aI = bN` has rank one, so there
# is only one eigenvector, :math:`(1, 0)`: the matrix cannot be diagonalised (a Jordan
# block). The complex matrix has the eigenvalues :math:`a \pm bi`, no real eigenvector, and
# determinant :math:`a^2 + b^2 = |z|^2`; it is a rotation by :math:`\arg z` times a scaling by
# :math:`|z|`.

a, b = 0.9, 0.6
shear = Dual(a, b).to_matrix()
rotation = complex_matrix(complex(a, b))

np.testing.assert_allclose(np.linalg.eigvals(shear), [a, a])
assert np.linalg.matrix_rank(shear - a * np.eye(2)) == 1
np.testing.assert_allclose(shear @ [1.0, 0.0], [a, 0.0])
assert np.isclose(np.linalg.det(shear), a**2)

eigenvalues = np.sort_complex(np.linalg.eigvals(rotation))
np.testing.assert_allclose(eigenvalues, [a - 1j * b, a + 1j * b])
assert np.all(np.abs(eigenvalues.imag) > 0)  # no real eigenvalue: every direction turns
assert np.isclose(abs(np.linalg.det(rotation)), a**2 + b**2)
angle, scale = np.arctan2(b, a), np.hypot(a, b)
turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
np.testing.assert_allclose(rotation, scale * turn, rtol=1e-15)
print(f"dual: eigenvalues {np.linalg.eigvals(shear)}, det {np.linalg.det(shear):.4f}")
print(f"complex: eigenvalues {eigenvalues}, det {np.linalg.det(rotation):.4f}")

# %%
# The two maps side by side
# -------------------------
#
# Grey: the square grid :math:`[-1, 1]^2` and the unit circle; colour: their images. Under
# the dual matrix horizontal lines stay horizontal and slide sideways in proportion to their
# height, and the circle becomes a tilted ellipse of area :math:`\pi a^2`. Under the complex
# matrix the grid turns rigidly by :math:`\arg z` and the circle stays a circle, of radius
# :math:`|z|`.

t = np.linspace(0, 2 * np.pi, 300)
circle = np.stack([np.cos(t), np.sin(t)])
levels = np.linspace(-1, 1, 9)
ends = np.array([-1.0, 1.0])

fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
panels = [
    (shear, f"dual ${a} + {b}\\varepsilon$ = [[{a}, {b}], [0, {a}]]: a scaled shear"),
    (rotation, f"complex ${a} + {b}i$ = [[{a}, {-b}], [{b}, {a}]]: a rotation-scaling"),
]
for ax, (m, title) in zip(axes, panels, strict=True):
    for k, level in enumerate(levels):
        vertical = np.stack([np.full(2, level), ends])
        horizontal = np.stack([ends, np.full(2, level)])
        first = k == 0
        ax.plot(*vertical, color="0.8", lw=0.8, label="grid" if first else None)
        ax.plot(*horizontal, color="0.8", lw=0.8)
        ax.plot(
            *(m @ vertical),
            color="tab:blue",
            lw=1,
            label="image of vertical lines" if first else None,
        )
        ax.plot(
            *(m @ horizontal),
            color="tab:green",
            lw=1,
            label="image of horizontal lines" if first else None,
        )
    ax.plot(*circle, color="0.5", ls="--", lw=1.2, label="unit circle")
    ax.plot(*(m @ circle), color="tab:orange", lw=2.2, label="image of the circle")
    ax.set_aspect("equal")
    ax.set_xlim(-1.9, 1.9)
    ax.set_ylim(-1.4, 1.4)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(title, fontsize=10)
axes[0].annotate(
    "the only eigenvector",
    xy=(1.55, 0.0),
    xytext=(0.55, -1.25),
    fontsize=9,
    arrowprops=dict(arrowstyle="->", color="black"),
)
axes[0].plot([0, 1.55], [0, 0], color="black", lw=2)
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize=9)
fig.tight_layout(rect=(0, 0.06, 1, 1))

# %%
# Powers: a line against a spiral
# -------------------------------
#
# Multiplying by the same number again and again applies the same map again and again.
# Start from the point :math:`(0, 1)`. The :math:`k`-th power of the dual matrix is
# :math:`\begin{bmatrix} a^k & k a^{k-1} b \\ 0 & a^k \end{bmatrix}`, the matrix of
# :math:`(a + b\varepsilon)^k = a^k + k a^{k-1} b\,\varepsilon`, so the orbit is
# :math:`(k a^{k-1} b,\ a^k)`: its first coordinate is the power rule, the tangent of the
# :math:`k`-th power, which grows in proportion to :math:`k` (damped only by the slow decay
# of :math:`a^{k-1}`), while the orbit never crosses the horizontal axis. The complex
# powers :math:`|z|^k e^{ik \arg z}` turn the point by the same angle each time and go round
# a logarithmic spiral.

steps = np.arange(13)
a, b = 0.95, 0.3
dual_powers = [Dual(a, b) ** int(k) for k in steps]
for k, p in zip(steps, dual_powers, strict=True):
    assert np.isclose(p.primal, a**k) and np.isclose(p.tangent, k * a ** (k - 1) * b)
    np.testing.assert_allclose(
        np.linalg.matrix_power(Dual(a, b).to_matrix(), int(k)),
        p.to_matrix(),
        rtol=1e-13,
        atol=1e-15,
    )
start = np.array([0.0, 1.0])
dual_orbit = np.array(
    [np.linalg.matrix_power(Dual(a, b).to_matrix(), int(k)) @ start for k in steps]
)
complex_orbit = np.array(
    [
        np.linalg.matrix_power(complex_matrix(complex(a, b)), int(k)) @ start
        for k in steps
    ]
)
# The dual orbit: (k a^(k-1) b, a^k) -- the tangent of the k-th power, and its primal.
np.testing.assert_allclose(
    dual_orbit[:, 0], [p.tangent for p in dual_powers], atol=1e-15
)
np.testing.assert_allclose(dual_orbit[:, 1], [p.primal for p in dual_powers])
np.testing.assert_allclose(np.hypot(*complex_orbit.T), np.hypot(a, b) ** steps)

fig, ax = plt.subplots(figsize=(7, 5))
ax.plot(
    *dual_orbit.T,
    "o-",
    color="tab:red",
    label=r"$(a + b\varepsilon)^k$ applied to $(0, 1)$",
)
ax.plot(
    *complex_orbit.T,
    "s-",
    color="tab:purple",
    label=r"$(a + bi)^k$ applied to $(0, 1)$",
)
ax.annotate(
    "k = 0 (both)", start, textcoords="offset points", xytext=(4, 6), fontsize=8
)
for k in (4, 8, 12):
    ax.annotate(
        f"k={k}", dual_orbit[k], textcoords="offset points", xytext=(4, 6), fontsize=8
    )
    ax.annotate(
        f"k={k}",
        complex_orbit[k],
        textcoords="offset points",
        xytext=(4, 6),
        fontsize=8,
    )
ax.axhline(0, color="0.7", lw=0.8)
ax.axvline(0, color="0.7", lw=0.8)
ax.set_xlim(-1.2, 2.4)
ax.set_aspect("equal")
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title(f"Powers of $a + b\\varepsilon$ and of $a + bi$, with a = {a}, b = {b}")
ax.legend(loc="lower right", fontsize=9)
fig.tight_layout()
plt.show()
