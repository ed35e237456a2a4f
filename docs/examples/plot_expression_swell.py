r"""
Expression swell
================

Symbolic differentiation returns a formula, and formulas of derivatives grow. Written out as
a tree, where every repeated subexpression is copied, they can grow exponentially or faster;
stored as a DAG, where each distinct subexpression is kept once (as
:mod:`autodiff_ref.symbolic` does), they grow far more slowly. We measure both sizes, with
:func:`~autodiff_ref.symbolic.tree_size` and :func:`~autodiff_ref.symbolic.dag_size`, for
successive derivatives of three functions and for the iterated logistic map, check the
derivatives against known values and against forward mode, and assert the growth rates.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical
from autodiff_ref.symbolic import dag_size, diff, lambdify, simplify, symbols, tree_size

(x,) = symbols("x")

# %%
# Successive derivatives
# ----------------------
#
# Differentiating :math:`e^{\sin x}` once gives :math:`\cos(x)\, e^{\sin x}`; every further
# derivative applies the product rule to every product, so the number of terms written out
# grows faster than exponentially. The values at 0 are known integers (the derivatives of
# :math:`e^{\sin x}` at 0 are 1, 1, 1, 0, -3, -8, -3, 56, 217; those of :math:`\tanh` are the
# signed tangent numbers 0, 1, 0, -2, 0, 16, 0, -272, 0; those of :math:`x \sin x` are
# :math:`n \sin((n-1)\pi/2)`), which checks the formulas independently.

orders = np.arange(9)
functions = {  # name: (expression, its derivatives of orders 0, 1, ..., 8 at x = 0)
    "exp(sin x)": (anp.exp(anp.sin(x)), [1, 1, 1, 0, -3, -8, -3, 56, 217]),
    "tanh x": (anp.tanh(x), [0, 1, 0, -2, 0, 16, 0, -272, 0]),
    "x sin x": (x * anp.sin(x), [n * np.sin((n - 1) * np.pi / 2) for n in orders]),
}
sizes = {}
for label, (f, known_at_0) in functions.items():
    d, rows = f, []
    for n in orders:
        if n > 0:
            d = diff(d, x)
        assert np.isclose(lambdify(d, x)(0.0), known_at_0[n], rtol=1e-12, atol=1e-12)
        rows.append((tree_size(d), dag_size(d)))
    sizes[label] = np.array(rows, dtype=float)
    print(f"{label:14} tree: {sizes[label][:, 0].astype(int)}")
    print(f"{'':14} DAG:  {sizes[label][:, 1].astype(int)}")

# %%
# For :math:`e^{\sin x}` and :math:`\tanh x` each order multiplies the tree by a factor that
# itself keeps growing (faster than any exponential), while the DAG grows only polynomially:
# its growth factor per order falls towards 1. For :math:`x \sin x` nothing swells: its
# derivatives really are short, :math:`a \sin x + b \cos x + x (\dots)`.

for label in ["exp(sin x)", "tanh x"]:
    tree, dag = sizes[label][:, 0], sizes[label][:, 1]
    tree_factor, dag_factor = tree[1:] / tree[:-1], dag[1:] / dag[:-1]
    print(
        f"{label:14} tree x {np.round(tree_factor[-4:], 2)}, "
        f"DAG x {np.round(dag_factor[-4:], 2)}"
    )
    assert (
        np.all(np.diff(tree_factor[2:]) > 0) and tree_factor[-1] > 4
    )  # super-exponential
    assert np.all(np.diff(dag_factor[-5:]) < 0) and dag_factor[-1] < 1.5  # polynomial
small = sizes["x sin x"]
assert np.all(np.diff(small[:, 0]) <= 4) and np.all(np.diff(small[:, 1]) <= 2)  # linear

fig, ax = plt.subplots(figsize=(7, 4.5))
as_tex = {
    "exp(sin x)": r"$e^{\sin x}$",
    "tanh x": r"$\tanh x$",
    "x sin x": r"$x \sin x$",
}
for (label, table), color in zip(
    sizes.items(), ["tab:red", "tab:blue", "tab:green"], strict=True
):
    ax.semilogy(orders, table[:, 0], "o-", color=color, label=f"{as_tex[label]}: tree")
    ax.semilogy(orders, table[:, 1], "s--", color=color, label=f"{as_tex[label]}: DAG")
ax.set_xlabel("order of the derivative $n$")
ax.set_ylabel("number of nodes")
ax.set_title("Size of the $n$-th derivative: written out (tree) vs shared (DAG)")
ax.legend(fontsize=9, ncol=2)
ax.grid(True, which="major", alpha=0.3)
fig.tight_layout()
plt.show()

# %%
# The logistic map
# ----------------
#
# The classic example of expression swell (Baydin et al., *Automatic differentiation in
# machine learning: a survey*, 2018, Table 1) iterates :math:`l_{n+1} = 4 l_n (1 - l_n)`
# from :math:`l_1 = x`. Each step uses :math:`l_n` twice, so the tree of :math:`l_n` doubles
# with every step although the program that computes it grows by three operations. The
# derivative's tree grows slightly faster than the function's, and
# :func:`~autodiff_ref.symbolic.simplify` cannot shrink it, while the derivative's DAG grows
# by a fixed number of nodes per step. Forward mode computes the same derivative without
# any formula; it and the complex step confirm the values.


def logistic(t, steps):
    for _ in range(steps):
        t = 4 * t * (1 - t)
    return t


steps = np.arange(1, 13)
rows = []
for n in steps:
    l_n = logistic(x, int(n))
    d = diff(l_n, x)
    forward = ad.derivative(lambda t, n=n: logistic(t, int(n)), 0.3)
    complex_step = numerical.derivative(
        lambda t, n=n: logistic(t, int(n)), 0.3, method="complex"
    )
    assert np.isclose(lambdify(d, x)(0.3), forward, rtol=1e-12)
    assert np.isclose(forward, complex_step, rtol=1e-12)
    rows.append(
        (
            dag_size(l_n),
            tree_size(l_n),
            tree_size(d),
            tree_size(simplify(d)),
            dag_size(d),
        )
    )
table = np.array(rows, dtype=float)
program, l_tree, d_tree, d_simplified, d_dag = table.T

growth = d_tree[1:] / d_tree[:-1]
print("derivative tree grows by x", np.round(growth[-4:], 3), "per step")
print("derivative DAG grows by +", np.diff(d_dag)[-4:].astype(int), "per step")
assert np.all(growth > 2) and np.all(
    np.diff(growth[-8:]) < 0
)  # exponential: like n 2^n
assert growth[-1] < 2.2
assert np.all(
    d_simplified[-6:] / d_simplified[-7:-1] > 2.0
)  # simplify does not stop it
assert np.all(np.diff(d_dag) == 8) and np.all(np.diff(program) == 3)  # linear

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.semilogy(steps, d_tree, "o-", color="tab:red", label="$dl_n/dx$ written out (tree)")
ax.semilogy(steps, d_simplified, "x:", color="tab:orange", label="... after simplify")
ax.semilogy(steps, l_tree, "o-", color="black", label="$l_n$ written out (tree)")
ax.semilogy(steps, d_dag, "s--", color="tab:blue", label="$dl_n/dx$ shared (DAG)")
ax.semilogy(steps, program, "s--", color="black", label="$l_n$ as a program (DAG)")
ax.set_xlabel("steps $n$ of $l_{n+1} = 4 l_n (1 - l_n)$")
ax.set_ylabel("number of nodes")
ax.set_title("Expression swell of the logistic map")
ax.legend(fontsize=9)
ax.grid(True, which="major", alpha=0.3)
fig.tight_layout()
plt.show()
