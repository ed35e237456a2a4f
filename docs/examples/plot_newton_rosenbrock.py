r"""
Newton's method with the Hessian vs gradient descent on Rosenbrock
==================================================================

The Rosenbrock function :math:`f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2` has its minimum
:math:`f = 0` at :math:`(1, 1)`, at the end of a long, curved, narrow valley. Gradient
descent only uses first derivatives and crawls along the valley floor. Newton's method also
uses the Hessian, :math:`x_{k+1} = x_k - H(x_k)^{-1} \nabla f(x_k)`: it minimises the local
quadratic model of :math:`f` at each step, and near the minimum it converges quadratically
(the number of correct digits doubles per step). Both use derivatives computed exactly by
:func:`autodiff_ref.grad` and :func:`autodiff_ref.hessian`.
"""

import matplotlib.pyplot as plt
import numpy as np

from autodiff_ref import grad, hessian


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


gradient = grad(rosenbrock)
hess = hessian(rosenbrock)

# %%
# The Hessian, checked against the closed form
# --------------------------------------------
#
# By hand: :math:`\nabla f = \big(-2(1 - x) - 400\,x\,(y - x^2),\; 200\,(y - x^2)\big)` and
#
# .. math::
#
#    H = \begin{pmatrix} 2 - 400\,y + 1200\,x^2 & -400\,x \\ -400\,x & 200 \end{pmatrix}.


def gradient_by_hand(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def hessian_by_hand(p):
    x, y = p
    return np.array([[2 - 400 * y + 1200 * x**2, -400 * x], [-400 * x, 200.0]])


for point in [np.array([-1.2, 1.0]), np.array([0.3, -0.7]), np.array([1.0, 1.0])]:
    assert np.allclose(gradient(point), gradient_by_hand(point), rtol=1e-14, atol=1e-12)
    assert np.allclose(hess(point), hessian_by_hand(point), rtol=1e-14, atol=1e-12)
print("Hessian at (-1.2, 1):\n", hess(np.array([-1.2, 1.0])))

# %%
# Newton's method
# ---------------
#
# Each step solves :math:`H(x_k)\, s = \nabla f(x_k)` (never invert a matrix to apply it)
# and moves to :math:`x_k - s`. This is the pure method, without a line search, from the
# classic start :math:`(-1.2, 1)`.

start = np.array([-1.2, 1.0])
minimum = np.array([1.0, 1.0])

newton_path = [start]
p = start
for _ in range(30):
    step = np.linalg.solve(hess(p), gradient(p))
    p = p - step
    newton_path.append(p)
    if np.max(np.abs(step)) < 1e-14:
        break
newton_path = np.array(newton_path)
newton_iterations = len(newton_path) - 1
newton_error = np.max(np.abs(newton_path[-1] - minimum))
print(f"Newton: {newton_iterations} iterations, error {newton_error:.1e}")
assert newton_iterations < 30 and newton_error < 1e-10
# Quadratic convergence: near the end each error is about the square of the one before
# (until the error is exactly zero in floating point).
errors = np.max(np.abs(newton_path - minimum), axis=1)
nonzero = errors[errors > 0]
print("Newton errors:", " ".join(f"{e:.1e}" for e in nonzero))
assert nonzero[-1] < 10 * nonzero[-2] ** 2 < 1e-8

# %%
# Gradient descent
# ----------------
#
# The step size has to stay below :math:`2 / \lambda_{\max}(H)`, and along the valley the
# largest Hessian eigenvalue is about 1000 or more, while the smallest is under 1: the
# valley is badly conditioned, so progress along it is slow.

learning_rate = 1e-3
gd_path = [start]
p = start
for _ in range(2000):
    p = p - learning_rate * gradient(p)
    gd_path.append(p)
gd_path = np.array(gd_path)
gd_error = np.max(np.abs(gd_path[-1] - minimum))
print(f"gradient descent: 2000 iterations, error {gd_error:.1e}")
print("Hessian eigenvalues at the minimum:", np.linalg.eigvalsh(hess(minimum)))
# Far slower: after as many steps as Newton needed it has barely moved, and even after
# 2000 steps it is still more than a million times further from (1, 1) than Newton.
assert np.max(np.abs(gd_path[newton_iterations] - minimum)) > 0.5
assert gd_error > 1e6 * max(newton_error, 1e-16)

# %%
# The paths on the contour plot
# -----------------------------
#
# Newton's first steps are not downhill (pure Newton only seeks a point where the
# gradient vanishes), but once close it lands on :math:`(1, 1)` in a few steps.
# Gradient descent zig-zags into the valley, then creeps along it.

x = np.linspace(-2, 2, 400)
y = np.linspace(-3.5, 3, 400)
X, Y = np.meshgrid(x, y)
Z = rosenbrock(np.array([X, Y]))
fig, ax = plt.subplots(figsize=(6.5, 5.5))
ax.contour(X, Y, Z, levels=np.logspace(-1, 3.5, 16), cmap="viridis", linewidths=0.8)
ax.plot(
    gd_path[:, 0],
    gd_path[:, 1],
    ".-",
    ms=2,
    lw=0.8,
    color="tab:blue",
    label="gradient descent (2000 steps)",
)
ax.plot(
    newton_path[:, 0],
    newton_path[:, 1],
    "o-",
    color="tab:red",
    label=f"Newton ({newton_iterations} steps)",
)
ax.plot(*start, "ks", label="start $(-1.2, 1)$")
ax.plot(*minimum, "k*", ms=14, label="minimum $(1, 1)$")
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title("Rosenbrock: Newton's method vs gradient descent")
ax.legend(loc="upper center", fontsize=9)
fig.tight_layout()

# %%
# Loss against iteration
# ----------------------
#
# On a log scale, gradient descent's loss falls slowly while Newton's drops to the level of
# rounding in a handful of steps (values that are exactly zero cannot be drawn on a log
# scale and are left out).

newton_loss = np.array([rosenbrock(q) for q in newton_path])
gd_loss = np.array([rosenbrock(q) for q in gd_path])
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.semilogy(
    np.arange(len(gd_loss)), gd_loss, color="tab:blue", label="gradient descent"
)
positive = newton_loss > 0
ax.semilogy(
    np.flatnonzero(positive),
    newton_loss[positive],
    "o-",
    color="tab:red",
    label="Newton",
)
ax.set_xscale("symlog", linthresh=10)
ax.set_xlabel("iteration (linear up to 10, then logarithmic)")
ax.set_ylabel("$f(x_k)$")
ax.set_title("Loss against iteration")
ax.legend()
fig.tight_layout()
plt.show()
