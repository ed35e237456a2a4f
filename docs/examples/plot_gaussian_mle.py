r"""
Fitting a Gaussian by maximum likelihood, with Cholesky and log-determinant
===========================================================================

Given samples :math:`x_1, \dots, x_n` in :math:`\mathbb{R}^2`, we fit the mean :math:`\mu`
and covariance :math:`\Sigma` of a Gaussian by minimising the negative log-likelihood

.. math::

   \mathrm{NLL}(\mu, \Sigma) = \tfrac12 \log\det\Sigma
   + \tfrac{1}{2n} \sum_i (x_i - \mu)^{\top} \Sigma^{-1} (x_i - \mu)

(per sample, without the constant). It is computed as a numerical analyst would: the
log-determinant with :func:`autodiff_ref.numpy.linalg.slogdet`, and the quadratic form through the
Cholesky factor :math:`\Sigma = LL^{\top}` (:func:`autodiff_ref.numpy.linalg.cholesky`) and a
triangular solve, never an explicit inverse. Newton's method, with the gradient and Hessian
from autodiff_ref differentiating *through* the Cholesky factorisation, converges to the
closed-form answer: the sample mean and the (biased) sample covariance.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp

rng = np.random.default_rng(7)
true_mean = np.array([1.0, -2.0])
true_cov = np.array([[2.0, 0.8], [0.8, 1.0]])
samples = rng.multivariate_normal(true_mean, true_cov, size=400)
n = len(samples)

# %%
# The negative log-likelihood
# ---------------------------
#
# The parameters are one vector :math:`p = (\mu_1, \mu_2, \Sigma_{11}, \Sigma_{12},
# \Sigma_{22})`; the symmetric matrix :math:`\Sigma` is assembled from it with
# :func:`autodiff_ref.numpy.stack`. With :math:`z_i = L^{-1}(x_i - \mu)`, the quadratic form is
# :math:`\lVert z_i \rVert^2`.


def unpack(p):
    mean = p[:2]
    cov = anp.stack([anp.stack([p[2], p[3]]), anp.stack([p[3], p[4]])])
    return mean, cov


def nll(p):
    mean, cov = unpack(p)
    chol = anp.linalg.cholesky(cov)
    z = anp.linalg.solve(chol, (samples - mean).T)  # L z = x - mu, for every sample
    _, logdet = anp.linalg.slogdet(cov)
    return 0.5 * logdet + 0.5 * anp.sum(z * z) / n


def pack(mean, cov):
    return np.array([mean[0], mean[1], cov[0, 0], cov[0, 1], cov[1, 1]])


# %%
# The closed form, and the gradient there
# ---------------------------------------
#
# Setting the gradient to zero gives :math:`\hat\mu = \frac1n \sum_i x_i` and
# :math:`\hat\Sigma = \frac1n \sum_i (x_i - \hat\mu)(x_i - \hat\mu)^{\top}`. The gradient
# autodiff_ref computes through ``cholesky``, ``solve`` and ``slogdet`` must vanish there,
# and agree with central differences elsewhere.

mean_hat = samples.mean(axis=0)
cov_hat = (samples - mean_hat).T @ (samples - mean_hat) / n
p_hat = pack(mean_hat, cov_hat)
gradient = ad.grad(nll)
hessian = ad.hessian(nll)
print("gradient at the closed form:", gradient(p_hat))

# %%
# How close is close? The gradient is an average over the :math:`n` samples, and
# summing :math:`n` terms in floating point can be off by about :math:`n\varepsilon`
# times the size of the terms (the worst case of summing one after another). Per
# sample, the gradient is :math:`\Sigma^{-1} d_i` in :math:`\mu` and
# :math:`\tfrac12 (\Sigma^{-1} - \Sigma^{-1} d_i d_i^{\top} \Sigma^{-1})` in
# :math:`\Sigma`, with :math:`d_i = x_i - \mu`: at most
# :math:`\lVert\Sigma^{-1}\rVert (1 + m)` in size, where :math:`m` is the largest
# squared Mahalanobis distance :math:`d_i^{\top} \Sigma^{-1} d_i`. That bounds the
# gradient's rounding error, the tolerance for "zero" here. A parameter off by
# :math:`\delta` changes the gradient by about :math:`H \delta`, so the parameters the
# gradient pins down are known to :math:`\lVert H^{-1} \rVert` times that: the
# tolerance for the fit below. Both come from the problem (its size, its conditioning),
# not from the rounding one machine's BLAS happens to make.

eps = np.finfo(float).eps
centred = samples - mean_hat
mahalanobis = np.sum(centred * np.linalg.solve(cov_hat, centred.T).T, axis=1)
term_size = np.linalg.norm(np.linalg.inv(cov_hat), 2) * (1 + mahalanobis.max())
gradient_tol = n * eps * term_size
fit_tol = np.linalg.norm(np.linalg.inv(hessian(p_hat)), 2) * gradient_tol
print(f"tolerance for a zero gradient: {gradient_tol:.1e}; for the fit: {fit_tol:.1e}")
assert np.max(np.abs(gradient(p_hat))) < gradient_tol

p_test = pack(np.zeros(2), np.eye(2))
central = np.array([
    (nll(p_test + 1e-6 * e) - nll(p_test - 1e-6 * e)) / 2e-6 for e in np.eye(5)
])  # fmt: skip
assert np.allclose(gradient(p_test), central, rtol=1e-7, atol=1e-8)

# %%
# Newton's method
# ---------------
#
# Each step solves :math:`H s = \nabla \mathrm{NLL}`. The likelihood is not convex in
# :math:`\Sigma`, so far from the optimum a step may lead outside the positive definite
# matrices (where ``cholesky`` raises) or uphill: such a step is halved until it lands
# inside and goes down, at most 52 times (a step :math:`2^{-52}` times smaller no longer
# moves :math:`p` by more than its rounding). Near the optimum the full step is taken and
# the error squares at every step.
#
# When to stop? Not when the gradient is below a fixed number: how small it can get is
# set by rounding, and differs from one BLAS to another. The *Newton decrement*
# :math:`\lambda^2 = \nabla\mathrm{NLL}^{\top} H^{-1} \nabla\mathrm{NLL}` says how
# much the step would lower the NLL (by :math:`\lambda^2/2`). Once that is below the
# NLL's own rounding (:math:`n\varepsilon\,|\mathrm{NLL}|`, a sum of :math:`n` terms),
# no line search can see the decrease: the last full step is taken without one (it
# squares an error already near :math:`\sqrt{\varepsilon}`) and the iteration stops.


def line_search(p, step):
    """The longest of 1, 1/2, 1/4, ... along ``-step`` that lowers the NLL."""
    t = 1.0
    for _ in range(53):  # t = 1, ..., 2**-52
        try:
            if nll(p - t * step) < nll(p):
                return t
        except np.linalg.LinAlgError:  # Sigma left the positive definite cone
            pass
        t /= 2
    raise RuntimeError("no step along the search direction lowers the NLL")


p = pack(np.zeros(2), np.eye(2))
path = [p]
decrements = []
for _ in range(50):
    g, h = gradient(p), hessian(p)
    step = np.linalg.solve(h, g)
    decrement = g @ step  # lambda^2: twice the decrease the full step predicts
    decrements.append(decrement)
    if 0 <= decrement / 2 <= n * eps * abs(nll(p)):
        path.append(p - step)  # below what the NLL can resolve: the last step
        break
    if decrement <= 0:  # not a descent direction: fall back to the gradient
        step = g
    p = p - line_search(p, step) * step
    path.append(p)
else:
    raise RuntimeError("Newton's method did not reach its stopping rule in 50 steps")
p = path[-1]

mean_fit, cov_fit = (np.asarray(v) for v in unpack(p))
print(f"Newton steps: {len(path) - 1}; last decrement {decrements[-1]:.1e}")
print(f"largest gradient entry before the last step: {np.max(np.abs(g)):.1e}")
print(f"largest error of the fit after it: {np.max(np.abs(p - p_hat)):.1e}")
print("fitted mean:", mean_fit, " closed form:", mean_hat)
print("fitted covariance:\n", cov_fit, "\nclosed form:\n", cov_hat)
assert np.max(np.abs(p - p_hat)) < fit_tol
assert np.max(np.abs(gradient(p))) < gradient_tol

# %%
# The fit, and how fast it got there
# ----------------------------------
#
# Left: the samples, and the 2-standard-deviation ellipse of the Gaussian after each Newton
# step (light to dark), ending on the closed-form ellipse (dashed). Right: the gap between
# the negative log-likelihood and its minimum at each step; once the full Newton steps
# start, the number of correct digits roughly doubles per step.


def ellipse(mean, cov, k=2.0):
    angle = np.linspace(0, 2 * np.pi, 200)
    w, v = np.linalg.eigh(cov)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return (mean[:, None] + k * v @ (np.sqrt(w)[:, None] * circle)).T


best = nll(p_hat)
gaps = [max(nll(q) - best, 1e-17) for q in path]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
left.scatter(samples[:, 0], samples[:, 1], s=6, color="0.6", label="samples")
shades = plt.cm.viridis(np.linspace(0.95, 0.05, len(path)))  # light to dark
for q, shade in zip(path, shades, strict=True):
    mean_q, cov_q = (np.asarray(v) for v in unpack(q))
    xy = ellipse(mean_q, cov_q)
    left.plot(xy[:, 0], xy[:, 1], color=shade, linewidth=1.2)
xy = ellipse(mean_hat, cov_hat)
left.plot(xy[:, 0], xy[:, 1], "k--", linewidth=1.5, label="closed form")
left.set_aspect("equal")
left.set_xlabel("$x_1$")
left.set_ylabel("$x_2$")
left.set_title("2σ ellipses, from Σ = I (light) to the fit (dark)")
left.legend(loc="upper left")
right.semilogy(range(len(gaps)), gaps, "o-", color="tab:blue")
right.set_xlabel("Newton step")
right.set_ylabel("NLL − min NLL")
right.set_title("Convergence to the closed form")
right.grid(True, which="both", alpha=0.3)
fig.tight_layout()
plt.show()
