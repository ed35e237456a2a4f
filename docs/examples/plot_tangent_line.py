r"""
Tangent lines of sin and cos
============================

The derivative of a function at a point is the slope of its tangent line there. We take the
slopes of :math:`\sin` and :math:`\cos` at a handful of points from
:func:`autodiff_ref.derivative` (forward-mode automatic differentiation), check them against
the closed forms :math:`\sin' = \cos` and :math:`\cos' = -\sin` and against the complex-step
approximation of :mod:`autodiff_ref.numerical`, and draw each tangent line
:math:`y = f(x_0) + f'(x_0)\,(x - x_0)`.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
from autodiff_ref import numerical

# %%
# Slopes by forward mode
# ----------------------
#
# :func:`autodiff_ref.derivative` evaluates the function once on dual numbers, so the slope
# carries no truncation error and no step size: it agrees with the closed form to rounding.
# The complex step :math:`\operatorname{Im} f(x_0 + ih)/h` is an independent check that is
# accurate to rounding as well.

points = np.array([-2.5, -1.2, 0.0, 1.0, 2.2])
functions = {
    # name: (f, closed-form derivative)
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda x: -np.sin(x)),
}

slopes = {}
for name, (f, closed_form) in functions.items():
    slopes[name] = np.array([ad.derivative(f, x0) for x0 in points])
    complex_step = np.array(
        [numerical.derivative(f, x0, method="complex") for x0 in points]
    )
    for x0, slope, reference in zip(points, slopes[name], complex_step, strict=True):
        print(f"{name}'({x0:+.1f}) = {slope:+.16f}   complex step: {reference:+.16f}")
    np.testing.assert_allclose(slopes[name], closed_form(points), rtol=0, atol=1e-15)
    np.testing.assert_allclose(slopes[name], complex_step, rtol=0, atol=1e-15)

# %%
# The curves and their tangents
# -----------------------------
#
# Each tangent touches its curve at :math:`x_0` and, near :math:`x_0`, follows it more
# closely than any other straight line. At :math:`x_0 = 0` the slope of :math:`\cos` is
# :math:`-\sin 0 = 0`, so its tangent is horizontal (a peak), while :math:`\sin` climbs
# there with slope :math:`\cos 0 = 1`.

x = np.linspace(-np.pi, np.pi, 400)
half_width = 0.9  # draw each tangent over [x0 - 0.9, x0 + 0.9]
colors = plt.cm.plasma(np.linspace(0.05, 0.8, len(points)))

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, (f, _)) in zip(axes, functions.items(), strict=True):
    ax.plot(x, f(x), color="black", linewidth=2, label=rf"$\{name} x$")
    for x0, slope, color in zip(points, slopes[name], colors, strict=True):
        segment = np.linspace(x0 - half_width, x0 + half_width, 2)
        ax.plot(
            segment,
            f(x0) + slope * (segment - x0),
            color=color,
            linewidth=2,
            label=rf"$x_0 = {x0:+.1f}$, slope ${slope + 0.0:+.3f}$",
        )  # no "-0.000"
        ax.plot([x0], [f(x0)], "o", color=color, markeredgecolor="black", zorder=3)
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set_xlim(-np.pi, np.pi)
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlabel("$x$")
    ax.set_title(rf"$\{name} x$")
    ax.legend(loc="lower right" if name == "sin" else "lower center", fontsize=8)
axes[0].set_ylabel("$y$")
fig.suptitle("Tangent lines whose slopes come from autodiff_ref.derivative")
fig.tight_layout()
plt.show()
