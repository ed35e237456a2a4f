r"""
Gradient descent: the learning-rate limit, and stochastic gradients
===================================================================

The least-squares problem of the tutorial *Gradient descent and linear regression*,
taken further. Its loss is quadratic, so its :func:`autodiff_ref.hessian` is a constant
matrix :math:`H`, and the eigenvalues of :math:`H` say exactly which learning rates
converge: :math:`0 < \eta < 2/\lambda_{\max}`. We check that limit, the best constant
step :math:`2/(\lambda_{\min} + \lambda_{\max})` and its predicted rate, then replace
the full-data gradient by minibatch estimates (stochastic gradient descent), and finally
count what a gradient costs by finite differences and by reverse mode.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical

# %%
# The data and the loss
# ---------------------
#
# The same synthetic data as the tutorial: 200 points, three features of different
# scales, targets from known parameters plus noise. The loss is the mean-squared error,
# written with autodiff_ref's operations; the data are arguments, so the same function
# serves the full data set and any minibatch.

rng = np.random.default_rng(0)
n, d = 200, 3
X = rng.normal(size=(n, d)) * np.array([1.0, 2.0, 0.5]) + np.array([0.0, 1.0, 0.0])
y = X @ np.array([2.0, -1.0, 0.5]) + 0.7 + 0.1 * rng.normal(size=n)


def loss(w, b, X, y):
    """Mean-squared error of the linear model X @ w + b."""
    return anp.mean(anp.square(anp.matmul(X, w) + b - y))


def loss_theta(theta):
    """The same loss as a function of theta = (w, b)."""
    return loss(theta[:d], theta[d], X, y)


A = np.column_stack([X, np.ones(n)])
theta_star, *_ = np.linalg.lstsq(A, y, rcond=None)
loss_star = loss_theta(theta_star)
w0, b0 = np.zeros(d), 0.0
theta0 = np.zeros(d + 1)

# %%
# The Hessian sets the learning rate
# ----------------------------------
#
# For a quadratic loss :math:`\nabla L(\theta) = H(\theta - \theta^\ast)` with :math:`H
# = \tfrac{2}{n} A^\top A`, so one step of gradient descent maps the error
# :math:`\theta_k - \theta^\ast` to :math:`(I - \eta H)(\theta_k - \theta^\ast)`. Along
# the eigenvector of eigenvalue :math:`\lambda_i` the error is multiplied by :math:`1 -
# \eta\lambda_i` at every step; all of them shrink if and only if :math:`0 < \eta <
# 2/\lambda_{\max}`. :func:`autodiff_ref.hessian` computes :math:`H` as the Jacobian of
# the reverse-mode gradient; we check it against the formula and run four learning
# rates: :math:`1/\lambda_{\max}`, the best constant step :math:`2/(\lambda_{\min} +
# \lambda_{\max})`, and :math:`1.95/\lambda_{\max}` and :math:`2.05/\lambda_{\max}` on
# either side of the limit.

H = ad.hessian(loss_theta)(theta0)
assert np.allclose(H, 2 / n * A.T @ A, rtol=1e-13, atol=1e-13)
lam = np.linalg.eigvalsh(H)
lam_min, lam_max = lam[0], lam[-1]
print(f"eigenvalues of H: {lam}; 2 / lambda_max = {2 / lam_max:.4f}")

value_and_grad = ad.value_and_grad(loss, argnums=(0, 1))


def gradient_descent(lr, steps, w=w0, b=b0):
    """Full-batch gradient descent; the final (w, b) and the loss before each step."""
    losses = []
    for _ in range(steps):
        value, (g_w, g_b) = value_and_grad(w, b, X, y)
        losses.append(value)
        w, b = w - lr * g_w, b - lr * g_b
    return w, b, np.array(losses)


lr_best = 2 / (lam_min + lam_max)
learning_rates = {
    r"$1/\lambda_{\max}$": 1 / lam_max,
    r"$2/(\lambda_{\min} + \lambda_{\max})$": lr_best,
    r"$1.95/\lambda_{\max}$": 1.95 / lam_max,
    r"$2.05/\lambda_{\max}$": 2.05 / lam_max,
}
excess = {}
for label, lr in learning_rates.items():
    excess[label] = gradient_descent(lr, 150)[2] - loss_star

fig, ax = plt.subplots(figsize=(7, 4.5))
for label, curve in excess.items():
    ax.semilogy(curve, label=rf"$\eta =$ {label}")
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$L(\theta_k) - L(\theta^\ast)$")
ax.set_title(r"Gradient descent converges if and only if $\eta < 2/\lambda_{\max}$")
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

slow, best, below, above = excess.values()
start = slow[0]
assert below[-1] < 1e-6 * start  # just below the limit: converges ...
assert above[-1] > 1e3 * start  # ... just above it: diverges
assert best[-1] < min(slow[-1], below[-1])  # and the best constant step wins

# %%
# With the best constant step the error shrinks by :math:`(\kappa - 1)/(\kappa + 1)` per
# step, :math:`\kappa = \lambda_{\max}/\lambda_{\min}`; the bound after 300 steps holds.

kappa = lam_max / lam_min
contraction = (kappa - 1) / (kappa + 1)
w_gd, b_gd, _ = gradient_descent(lr_best, 300)
error = np.linalg.norm(np.append(w_gd, b_gd) - theta_star)
print(f"factor per step {contraction:.3f}; error after 300 steps {error:.1e}")
assert error <= contraction**300 * np.linalg.norm(theta0 - theta_star) * (1 + 1e-6)

# %%
# Stochastic gradient descent
# ---------------------------
#
# A minibatch :math:`B` of :math:`|B| = 20` points gives an unbiased but noisy estimate
# of the gradient: the gradient of the same loss on ``X[batch], y[batch]``. Per pass
# over the data (an epoch) SGD takes ten steps where gradient descent takes one, so it
# starts faster; but the noise does not vanish at the minimum, so with a constant
# learning rate it stalls at a noise floor. A learning rate decaying like
# :math:`1/\text{epoch}` lets it settle below that floor.

grad_wb = ad.grad(loss, argnums=(0, 1))


def sgd(lr, batch_size, epochs, rng, decay=False):
    """Minibatch SGD; the full-data loss before the first epoch and after each."""
    w, b = w0, b0
    losses = [loss(w, b, X, y)]
    for epoch in range(epochs):
        eta = lr / (1 + epoch / 10) if decay else lr
        order = rng.permutation(n)
        for first in range(0, n, batch_size):
            batch = order[first : first + batch_size]
            g_w, g_b = grad_wb(w, b, X[batch], y[batch])
            w, b = w - eta * g_w, b - eta * g_b
        losses.append(loss(w, b, X, y))
    return np.array(losses)


epochs = 100
gd_curve = sgd(lr_best, n, epochs, rng)  # one batch of all n points: gradient descent
sgd_curve = sgd(0.5 / lam_max, 20, epochs, np.random.default_rng(1))
sgd_decay_curve = sgd(0.5 / lam_max, 20, epochs, np.random.default_rng(1), decay=True)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.semilogy(gd_curve - loss_star, label="GD, best constant step")
ax.semilogy(sgd_curve - loss_star, label=r"SGD, $|B| = 20$, constant $\eta$")
ax.semilogy(sgd_decay_curve - loss_star, label=r"SGD, $|B| = 20$, decaying $\eta$")
ax.set_xlabel("epoch (one pass over the data)")
ax.set_ylabel(r"$L(\theta) - L(\theta^\ast)$ on all data")
ax.set_title("Per pass over the data: SGD starts fast, GD finishes precisely")
ax.legend()
fig.tight_layout()
plt.show()

assert sgd_curve[10] < gd_curve[10]  # ten SGD steps per epoch win early on ...
assert gd_curve[-1] < np.median(sgd_curve[-20:])  # ... GD wins late: SGD's floor
assert sgd_decay_curve[-1] < np.median(sgd_curve[-20:])  # decaying steps get below it

# %%
# Two parameters: GD zig-zags, SGD jitters
# ----------------------------------------
#
# A straight line :math:`a x + b` through 100 points with :math:`x \in [0, 4]`: the loss
# over :math:`(a, b)` is a long tilted valley whose axes are the eigenvectors of the
# Hessian. With :math:`\eta = 1.8/\lambda_{\max}` the component along the steep
# direction is multiplied by :math:`1 - 1.8 = -0.8` at each step, hence the zig-zag;
# SGD's steps point roughly downhill but wander.

rng2 = np.random.default_rng(1)
m = 100
x1 = rng2.uniform(0.0, 4.0, size=m)
y1 = 1.5 * x1 - 1.0 + 0.5 * rng2.normal(size=m)


def loss2(a, b, x, y):
    """Mean-squared error of the line a * x + b (a grid of a and b broadcasts)."""
    return anp.mean(anp.square(a * x + b - y), axis=-1)


ab_star, *_ = np.linalg.lstsq(np.column_stack([x1, np.ones(m)]), y1, rcond=None)
H2 = ad.hessian(lambda ab: loss2(ab[0], ab[1], x1, y1))(np.zeros(2))
moments = np.array([[np.mean(x1**2), np.mean(x1)], [np.mean(x1), 1.0]])
assert np.allclose(H2, 2 * moments)
lam2 = np.linalg.eigvalsh(H2)
grad2 = ad.grad(loss2, argnums=(0, 1))


def path(lr, batch_size, steps, rng, start=(-1.0, 3.0)):
    """The (a, b) visited by minibatch gradient descent (batch_size = m: full batch)."""
    a, b = start
    points = [(a, b)]
    for _epoch in range(steps):  # every epoch takes at least one step
        if len(points) > steps:
            break
        order = rng.permutation(m)
        for first in range(0, m, batch_size):
            batch = order[first : first + batch_size]
            g_a, g_b = grad2(a, b, x1[batch], y1[batch])
            a, b = a - lr * g_a, b - lr * g_b
            points.append((a, b))
    return np.array(points[: steps + 1])


gd_path = path(1.8 / lam2[-1], m, 100, rng2)
sgd_path = path(0.5 / lam2[-1], 10, 150, np.random.default_rng(2))

a_grid, b_grid = np.meshgrid(np.linspace(-1.5, 3.0, 150), np.linspace(-3.5, 4.0, 150))
loss_grid = loss2(a_grid[..., None], b_grid[..., None], x1, y1)
levels = loss2(*ab_star, x1, y1) + np.geomspace(0.01, loss_grid.max(), 18)

fig, ax = plt.subplots(figsize=(7, 5))
ax.contour(a_grid, b_grid, loss_grid, levels=levels, cmap="viridis", linewidths=0.8)
gd_label = r"GD, $\eta = 1.8/\lambda_{\max}$"
ax.plot(*gd_path.T, "o-", color="C0", ms=3, lw=1, label=gd_label)
ax.plot(*sgd_path.T, ".-", color="C1", ms=2, lw=0.8, label=r"SGD, $|B| = 10$")
ax.plot(*ab_star, "*", color="black", ms=14, label="least squares")
ax.plot(-1.0, 3.0, "s", color="gray", label="start")
ax.set_xlabel("slope $a$")
ax.set_ylabel("intercept $b$")
ax.set_title("Gradient descent zig-zags across the valley, SGD jitters along it")
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

assert np.allclose(gd_path[-1], ab_star, atol=1e-2)

# %%
# What a gradient costs: finite differences against reverse mode
# --------------------------------------------------------------
#
# :func:`autodiff_ref.numerical.gradient` moves one parameter at a time: forward and
# central differences evaluate the loss :math:`2p` times for :math:`p` parameters (each
# partial derivative is kept independent), the complex step :math:`p` times (it is exact
# to rounding here only because this loss accepts complex numbers). Reverse mode
# evaluates it once and sweeps back once, whatever :math:`p` is.

calls = 0


def counted(theta):
    global calls
    calls += 1
    return loss_theta(theta)


exact = 2 / n * A.T @ (A @ theta0 - y)
p = theta0.size
print(f"{'method':<22}{'evaluations':>12}{'max abs error':>16}")
for method in ("forward", "central", "complex"):
    calls = 0
    error = np.max(np.abs(numerical.gradient(counted, theta0, method=method) - exact))
    print(f"{method:<22}{calls:>12}{error:>16.1e}")
    assert calls == (p if method == "complex" else 2 * p)
calls = 0
error = np.max(np.abs(ad.grad(counted)(theta0) - exact))
print(f"{'reverse mode (grad)':<22}{calls:>12}{error:>16.1e}")
assert calls == 1 and error < 1e-12

# %%
# With more features the count shows in the clock too (times are printed, not asserted:
# they depend on the machine).

print(f"{'p':>5}{'central evals':>15}{'time':>10}{'grad evals':>12}{'time':>10}")
for d_big in (3, 30, 300):
    X_big = rng.normal(size=(n, d_big))

    def loss_big(theta, X_big=X_big):
        global calls
        calls += 1
        return loss(theta[:-1], theta[-1], X_big, y)

    theta_big = np.zeros(d_big + 1)
    calls, started = 0, time.perf_counter()
    g_fd = numerical.gradient(loss_big, theta_big)
    fd_calls, fd_time = calls, time.perf_counter() - started
    calls, started = 0, time.perf_counter()
    g_ad = ad.grad(loss_big)(theta_big)
    ad_calls, ad_time = calls, time.perf_counter() - started
    fd_column = f"{fd_calls:>15}{fd_time * 1e3:>8.1f}ms"
    ad_column = f"{ad_calls:>12}{ad_time * 1e3:>8.1f}ms"
    print(f"{d_big + 1:>5}{fd_column}{ad_column}")
    assert fd_calls == 2 * (d_big + 1) and ad_calls == 1
    assert np.max(np.abs(g_fd - g_ad)) < 1e-8
