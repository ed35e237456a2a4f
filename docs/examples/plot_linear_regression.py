r"""
Linear regression: gradient descent vs the normal equation
===========================================================

A straight line :math:`\hat y = a x + b` fitted to noisy points in two ways: directly, by
solving the normal equation :math:`A^\top A\,\theta = A^\top y` with :math:`A = [x \;\; 1]`,
and iteratively, by gradient descent on the mean-squared error with gradients from
:func:`autodiff_ref.grad`. The learning rate comes from the eigenvalues of the
:func:`autodiff_ref.hessian` of the loss, and after a few hundred steps gradient descent
reaches the least-squares line to :math:`10^{-6}`.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp

# %%
# Data and loss
# -------------
#
# Sixty points around the line :math:`y = 1.5 x - 1`. The loss is an ordinary Python
# function of the slope and the intercept, written with autodiff_ref's operations.

rng = np.random.default_rng(7)
m = 60
x = rng.uniform(0.0, 4.0, size=m)
y = 1.5 * x - 1.0 + 0.4 * rng.normal(size=m)


def loss(a, b):
    """Mean-squared error of the line a * x + b."""
    return anp.mean(anp.square(a * x + b - y))


# %%
# The normal equation
# -------------------
#
# Setting the gradient :math:`\frac{2}{m} A^\top (A\theta - y)` to zero gives the normal
# equation; we solve it as a linear system and compare with ``numpy.linalg.lstsq``. Reverse
# mode confirms that the gradient vanishes at the solution.

A = np.column_stack([x, np.ones(m)])
theta_normal = np.linalg.solve(A.T @ A, A.T @ y)
theta_lstsq, *_ = np.linalg.lstsq(A, y, rcond=None)
print("normal equation (a, b):", theta_normal)
print("lstsq           (a, b):", theta_lstsq)
assert np.allclose(theta_normal, theta_lstsq, rtol=0, atol=1e-10)
assert np.allclose(ad.grad(loss, argnums=(0, 1))(*theta_lstsq), 0.0, atol=1e-12)

# %%
# Gradient descent with a step from the Hessian
# ---------------------------------------------
#
# The Hessian of this quadratic loss is :math:`\frac{2}{m} A^\top A`, the same everywhere.
# Gradient descent converges for learning rates below :math:`2/\lambda_{\max}`; the best
# constant step is :math:`2/(\lambda_{\min} + \lambda_{\max})`. Each step takes the gradient
# with respect to both parameters from one reverse pass, and we check the first one against
# the closed form :math:`\frac{2}{m} A^\top (A\theta - y)`.

H = ad.hessian(lambda theta: loss(theta[0], theta[1]))(np.zeros(2))
assert np.allclose(H, 2 / m * A.T @ A, rtol=1e-13)
lam_min, lam_max = np.linalg.eigvalsh(H)
lr = 2 / (lam_min + lam_max)
print(
    f"eigenvalues {lam_min:.3f}, {lam_max:.3f}; "
    f"learning rate {lr:.4f} < {2 / lam_max:.4f}"
)

value_and_grad = ad.value_and_grad(loss, argnums=(0, 1))
a, b = 0.0, 0.0
first_gradient = value_and_grad(a, b)[1]
assert np.allclose(first_gradient, 2 / m * A.T @ (A @ [a, b] - y), rtol=1e-13)

snapshots = {}
losses = []
for step in range(400):
    if step in (1, 4, 10, 30):
        snapshots[step] = (a, b)
    value, (g_a, g_b) = value_and_grad(a, b)
    losses.append(value)
    a, b = a - lr * g_a, b - lr * g_b

print(f"gradient descent (a, b): [{a:.8f} {b:.8f}]")
assert np.allclose([a, b], theta_lstsq, rtol=0, atol=1e-6)

# %%
# The fitted lines
# ----------------
#
# Early iterates in grey, the final gradient-descent line and the least-squares line on top
# of each other.

grid = np.linspace(0.0, 4.0, 2)
fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.scatter(x, y, s=14, color="black", alpha=0.6, label="data")
for step, (a_k, b_k) in snapshots.items():
    ax.plot(grid, a_k * grid + b_k, color="gray", lw=1, alpha=0.4 + step / 60)
    ax.annotate(
        f"step {step}", (4.0, a_k * 4.0 + b_k), fontsize=8, color="gray", va="center"
    )
ax.plot(
    grid,
    theta_lstsq[0] * grid + theta_lstsq[1],
    color="C1",
    lw=4,
    label="normal equation",
)
ax.plot(grid, a * grid + b, "--", color="C0", lw=2, label="gradient descent, 400 steps")
ax.set_xlim(-0.1, 4.6)
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title("Gradient descent ends on the least-squares line")
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# The loss curve
# --------------
#
# With the step :math:`2/(\lambda_{\min} + \lambda_{\max})` the error along *both* eigenvectors
# of the Hessian is multiplied by :math:`\pm(\kappa - 1)/(\kappa + 1)` per step, with
# :math:`\kappa = \lambda_{\max}/\lambda_{\min}`. So the excess loss
# :math:`L(\theta_k) - L(\theta^\ast)` falls by exactly :math:`((\kappa - 1)/(\kappa + 1))^2`
# per step -- a straight line on a log scale -- until it reaches the level of rounding.

loss_star = loss(*theta_lstsq)
excess = np.array(losses) - loss_star
kappa = lam_max / lam_min
rate = ((kappa - 1) / (kappa + 1)) ** 2

fig, ax = plt.subplots(figsize=(6.5, 4.2))
# At the level of rounding the computed excess may be 0 or negative: leave those out.
ax.semilogy(np.where(excess > 0, excess, np.nan), label="gradient descent")
steps = np.arange(len(excess))
ax.semilogy(
    steps,
    excess[0] * rate**steps,
    ":",
    color="gray",
    label=r"$((\kappa-1)/(\kappa+1))^{2k}$",
)
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$L(\theta_k) - L(\theta^\ast)$")
ax.set_ylim(1e-18, None)
ax.set_title("Linear convergence at the rate the Hessian predicts")
ax.legend()
fig.tight_layout()
assert np.allclose(excess, excess[0] * rate**steps, rtol=1e-6, atol=1e-15)

plt.show()
