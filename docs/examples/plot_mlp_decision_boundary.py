r"""
A small MLP's decision boundary
===============================

A multilayer perceptron with two hidden layers of 16 :math:`\tanh` units learns to separate
two concentric rings of points. The network and its logistic loss are plain Python functions
of autodiff_ref's operations; :func:`autodiff_ref.value_and_grad` gives the loss and the
gradient with respect to all six parameter arrays from one reverse pass, and full-batch
gradient descent does the rest. The gradient is checked against central differences from
:mod:`autodiff_ref.numerical` before training.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical

# %%
# Two rings
# ---------
#
# Class 0 on a circle of radius 0.5, class 1 on a circle of radius 1, both blurred by
# Gaussian noise: no straight line separates them.

rng = np.random.default_rng(3)
n = 300
label = np.arange(n) % 2
angle = rng.uniform(0.0, 2 * np.pi, size=n)
radius = np.where(label == 0, 0.5, 1.0)
X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
X += 0.12 * rng.normal(size=(n, 2))
y = label.astype(float)

# %%
# The network and its loss
# ------------------------
#
# :math:`z = \tanh(\tanh(X W_1 + b_1) W_2 + b_2) W_3 + b_3` gives one logit per point. The
# logistic loss :math:`\log(1 + e^z) - y z` is written with ``logaddexp(0, z)``
# :math:`= \log(e^0 + e^z)`, which never overflows and whose derivative is exactly
# :math:`\sigma(z)`, even at :math:`z = 0`.


def logits(params, X):
    W1, b1, W2, b2, W3, b3 = params
    h1 = anp.tanh(anp.matmul(X, W1) + b1)
    h2 = anp.tanh(anp.matmul(h1, W2) + b2)
    return anp.reshape(anp.matmul(h2, W3) + b3, (-1,))


def loss(W1, b1, W2, b2, W3, b3, X, y):
    z = logits([W1, b1, W2, b2, W3, b3], X)
    return anp.mean(anp.logaddexp(0.0, z) - y * z)


init = np.random.default_rng(0)
params = []
for fan_in, fan_out in [(2, 16), (16, 16), (16, 1)]:
    params += [init.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in), np.zeros(fan_out)]

# %%
# Checking the gradient
# ---------------------
#
# Before trusting the gradient, compare it with central differences, one parameter array at
# a time (the others held fixed).

value_and_grad = ad.value_and_grad(loss, argnums=(0, 1, 2, 3, 4, 5))
_, grads = value_and_grad(*params, X, y)
for i, g in enumerate(grads):
    approx = numerical.gradient(
        lambda v, i=i: loss(*params[:i], v, *params[i + 1 :], X, y), params[i]
    )
    print(
        f"parameter {i}: max |reverse - central difference| = "
        f"{np.max(np.abs(approx - g)):.1e}"
    )
    assert np.allclose(g, approx, rtol=1e-7, atol=1e-9)

# %%
# Training
# --------
#
# Full-batch gradient descent, :math:`W \leftarrow W - \eta \nabla_W L`, for all six arrays.


def accuracy(params):
    return np.mean((logits(params, X) > 0) == (y == 1))


learning_rate = 0.5
losses, accuracies = [], []
for _ in range(400):
    value, grads = value_and_grad(*params, X, y)
    params = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
    losses.append(value)
    accuracies.append(accuracy(params))
print(f"final loss {losses[-1]:.4f}, training accuracy {accuracies[-1]:.3f}")
assert accuracies[-1] > 0.95

# %%
# The decision boundary
# ---------------------
#
# The trained network evaluated on a grid in one batched call: the colour is the predicted
# probability :math:`\sigma(z)` of class 1, the black line the boundary :math:`z = 0`.

g1, g2 = np.meshgrid(np.linspace(-1.6, 1.6, 200), np.linspace(-1.6, 1.6, 200))
z_grid = logits(params, np.column_stack([g1.ravel(), g2.ravel()])).reshape(g1.shape)
probability = 0.5 * (1.0 + np.tanh(z_grid / 2))  # sigmoid, without overflow

fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(10, 4.4), width_ratios=[1.2, 1])
filled = ax.contourf(
    g1, g2, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5
)
ax.contour(g1, g2, z_grid, levels=[0.0], colors="black", linewidths=1.5)
for k, (marker, color) in enumerate((("o", "tab:blue"), ("s", "tab:red"))):
    ax.scatter(
        *X[y == k].T,
        s=14,
        marker=marker,
        c=color,
        edgecolors="black",
        linewidths=0.4,
        label=f"class {k}",
    )
fig.colorbar(filled, ax=ax, shrink=0.85, label=r"$P(\text{class } 1) = \sigma(z)$")
ax.set_aspect("equal")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_title(f"Decision boundary (training accuracy {accuracies[-1]:.1%})")
ax.legend(loc="upper right", fontsize=8)

ax_curve.semilogy(losses, label="logistic loss")
ax_curve.set_xlabel("step")
ax_curve.set_ylabel("mean logistic loss")
ax_curve.set_title("Training loss")
fig.tight_layout()
plt.show()
