r"""
Derivative rules, checked
=========================

Every elementwise primitive in :data:`autodiff_ref.rules.RULES` comes with its local
derivatives. Here we take each rule's derivative straight from the table (by calling it on a
symbol of :mod:`autodiff_ref.symbolic`, which turns it into a formula), evaluate the formula on
a grid inside the function's domain, and plot it next to the function. Every grid point is
checked against the complex-step derivative :math:`\operatorname{Im} f(x + ih)/h` of the
primitive's NumPy implementation, which shares no code with the rule (by central differences
for the seven functions NumPy does not extend to complex numbers analytically, such as
``floor``, ``mod`` and ``arctan2``).
"""

import matplotlib.pyplot as plt
import numpy as np

from autodiff_ref import numerical
from autodiff_ref.rules import RULES
from autodiff_ref.symbolic import Const, evaluate, simplify, symbols

# %%
# Each rule as a formula
# ----------------------
#
# A rule ``d(ans, *args)`` is written with autodiff_ref's primitives, so calling it with the
# symbolic expression ``ans = f(x)`` and the symbol ``x`` builds the formula of
# :math:`\partial f / \partial x`. Functions of two arguments are shown as functions of
# :math:`x` with the other argument fixed (``y = 1.5``, or a fixed mask ``c`` for ``where``);
# the entries ``1``, ``-1`` and ``None`` stand for the constants 1, -1 and 0.

x, y, c = symbols("x y c")
y0 = 1.5
# The grid of x for each primitive: inside its domain, no grid point on a kink or pole.
grids = {
    "add": (-3, 3), "sub": (-3, 3), "neg": (-3, 3), "mul": (-3, 3), "div": (-3, 3),
    "pow": (0.05, 3), "reciprocal": (0.2, 3), "exp": (-2, 2), "log": (0.05, 3),
    "sin": (-2 * np.pi, 2 * np.pi), "cos": (-2 * np.pi, 2 * np.pi), "tan": (-1.4, 1.4),
    "sqrt": (0.02, 3), "tanh": (-3, 3), "abs": (-3, 3), "sign": (-3, 3),
    "heaviside": (-3, 3), "maximum": (-3, 3), "minimum": (-3, 3), "where": (-3, 3),
    "cosh": (-2, 2), "sinh": (-2, 2), "arcsin": (-0.95, 0.95), "arccos": (-0.95, 0.95),
    "arctan": (-3, 3), "arcsinh": (-3, 3), "arccosh": (1.05, 3),
    "arctanh": (-0.95, 0.95),
    "log1p": (-0.9, 3), "expm1": (-2, 2), "log2": (0.05, 3), "log10": (0.05, 3),
    "exp2": (-2, 2), "hypot": (-3, 3), "logaddexp": (-3, 3), "arctan2": (-3, 3),
    "floor": (-2.9, 2.9), "ceil": (-2.9, 2.9), "floor_divide": (-2.9, 2.9),
    "mod": (-2.9, 2.9),
}  # fmt: skip
# NumPy refuses complex input to these (or they are not analytic): central differences.
not_analytic = {
    "hypot",
    "logaddexp",
    "arctan2",
    "floor",
    "ceil",
    "floor_divide",
    "mod",
}
elementwise = {name: prim for name, prim in RULES.items() if prim.elementwise}
# stop_gradient's derivative is 0 by definition, not its value's slope.
del elementwise["stop_gradient"]
assert grids.keys() == elementwise.keys(), "a new rule needs a grid here"


def rule_as_formula(prim):
    """f as an expression in x (the other arguments fixed), and the table's df/dx."""
    args = {1: (x,), 2: (x, y), 3: (c, x, y)}[len(prim.derivs)]
    i = args.index(x)
    f = prim(*args)
    d = prim.derivs[i]
    if d is None:
        df = Const(0.0)
    elif d in (1, -1):
        df = Const(float(d))
    else:
        df = simplify(d(f, *args))
    return f, df


# %%
# Evaluating and checking on the grid
# -----------------------------------
#
# 200 points per primitive (an even number, so that 0 is not among them: at 0 the kinked
# functions follow the table's conventions, not a limit), each compared with the complex
# step. For ``where`` the condition is the fixed mask :math:`c = (x > 0)`: it selects
# :math:`x` on the right and the constant :math:`y` on the left.

results = {}
for name, prim in elementwise.items():
    f, df = rule_as_formula(prim)
    grid = np.linspace(*grids[name], 200)
    mask = grid > 0
    values = {"x": grid, "y": y0, "c": mask}
    f_values = evaluate(f, values) * np.ones_like(grid)
    df_values = evaluate(df, values) * np.ones_like(grid)

    def f_of_x(
        t, k, prim=prim, mask=mask
    ):  # the primitive as a function of x, at point k
        if len(prim.derivs) == 1:
            return prim(t)
        return prim(t, y0) if len(prim.derivs) == 2 else prim(mask[k], t, y0)

    method = "central" if name in not_analytic else "complex"
    complex_step = np.array(
        [numerical.derivative(lambda t, k=k: f_of_x(t, k), p, method=method)
         for k, p in enumerate(grid)]
    )  # fmt: skip
    worst = np.max(
        np.abs(df_values - complex_step) / np.maximum(1, np.abs(complex_step))
    )
    assert worst < (1e-7 if name in not_analytic else 4 * np.finfo(float).eps), (
        name,
        worst,
    )
    results[name] = (f, df, grid, f_values, df_values, worst)
    print(f"{name:12}  df/dx = {df!s:28}  max rel. error vs {method}: {worst:.1e}")

# %%
# Small multiples
# ---------------
#
# Black: the function, colour: its derivative from the table. Read each panel as a calculus
# exercise: :math:`\tan' = 1 + \tan^2` is never below 1, :math:`\tanh' = 1 - \tanh^2` is a
# bump, :math:`\sqrt{x}\,'` and :math:`\log' x` blow up at 0, and the steps ``sign`` and
# ``heaviside`` are flat on both sides of their jump, so their derivative is 0.

jumps = {
    "abs",
    "sign",
    "heaviside",
    "maximum",
    "minimum",
    "where",
    "floor",
    "ceil",
    "floor_divide",
    "mod",
}
n_rows = -(-len(results) // 4)  # four panels a row, the last row maybe part-filled
fig, axes = plt.subplots(n_rows, 4, figsize=(11, 2.6 * n_rows))
for unused in axes.flat[len(results) :]:
    unused.set_axis_off()
for ax, (name, (f, df, grid, f_values, df_values, _)) in zip(
    axes.flat, results.items(), strict=False
):
    if name in jumps:  # do not draw a jump as a vertical line: break the curves there
        breaks = np.flatnonzero(
            np.abs(np.diff(f_values)) + np.abs(np.diff(df_values)) > 0.5
        )
        grid, f_values, df_values = (
            np.insert(a, breaks + 1, np.nan) for a in (grid, f_values, df_values)
        )
    ax.plot(grid, f_values, color="black", linewidth=1.8, label="$f$")
    ax.plot(
        grid, df_values, color="tab:red", linewidth=1.8, label="$f'$ from the table"
    )
    ax.axhline(0, color="gray", linewidth=0.5)
    poles = (
        "tan",
        "reciprocal",
        "log",
        "sqrt",
        "pow",
        "div",
        "arctanh",
        "log1p",
        "log2",
    )
    bound = 4.5 if name in (*poles, "log10", "arcsin", "arccos") else None
    if bound is not None:  # poles: clip the view, not the data
        ax.set_ylim(-bound, bound)
    ax.set_title(f"{name}: f = {f}\nf' = {df}", fontsize=8.5)
    ax.tick_params(labelsize=8)
axes.flat[0].legend(fontsize=8, loc="upper left")
fig.suptitle(
    f"Every elementwise rule of autodiff_ref.rules (y = {y0}), agreeing with the "
    f"complex step (central differences for the last {len(not_analytic)}) at all "
    "grid points",
    fontsize=11,
)
fig.tight_layout()
plt.show()
