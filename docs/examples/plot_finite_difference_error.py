r"""
The finite-difference error curve
=================================

A difference quotient has two errors pulling in opposite directions: truncation, which
shrinks with the step :math:`h` (like :math:`h` for one-sided differences, :math:`h^2` for
central ones), and round-off, which grows like :math:`\varepsilon |f| / h` because two nearly
equal rounded numbers are subtracted. On log-log axes the total error is a V. We measure it
for every method of :mod:`autodiff_ref.numerical` on two functions, fit the slopes of the
truncation branch, locate the bottom of the V, and compare it with the theoretical optimum
and with the default steps of :func:`autodiff_ref.numerical.step_size`.
"""

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
from autodiff_ref import numerical

eps = np.finfo(float).eps

# %%
# Two test functions
# ------------------
#
# :math:`e^x` at :math:`x = 1`, where :math:`f = f' = f'' = f'''`, and the classic
# complex-step test function :math:`e^x / \sqrt{\sin^3 x + \cos^3 x}` at :math:`x = 1.5`,
# whose higher derivatives are larger than the function itself. The reference derivatives
# :math:`f'`, :math:`f''`, :math:`f'''` come from forward-mode automatic differentiation
# (:func:`autodiff_ref.derivative`) and are checked against closed forms.


def squire_trapp(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def squire_trapp_prime(x):  # f' = f (1 - g' / (2 g)) with g = sin^3 + cos^3
    s, c = np.sin(x), np.cos(x)
    return squire_trapp(x) * (1 - 3 * s * c * (s - c) / (2 * (s**3 + c**3)))


cases = {
    r"$e^x$ at $x = 1$": (np.exp, 1.0),
    r"$e^x / \sqrt{\sin^3 x + \cos^3 x}$ at $x = 1.5$": (squire_trapp, 1.5),
}
short = dict(zip(cases, ["exp", "squire_trapp"], strict=True))  # for printing
taylor = {}  # f, f', f'', f''' at the point
for label, (f, x) in cases.items():
    taylor[label] = [float(ad.derivative(f, x, order=k)) for k in range(4)]
np.testing.assert_allclose(taylor[r"$e^x$ at $x = 1$"], np.e, rtol=1e-15)
np.testing.assert_allclose(
    taylor[r"$e^x / \sqrt{\sin^3 x + \cos^3 x}$ at $x = 1.5$"][1],
    squire_trapp_prime(1.5),
    rtol=1e-15,
)

# %%
# Measuring the error
# -------------------
#
# Real steps stop at :math:`10^{-15}` (smaller ones barely move :math:`x`); the complex step
# goes down to :math:`10^{-20}`. For ``"richardson"`` :math:`h` is the largest of six steps
# :math:`h, h/2, \dots, h/32`. The largest step is 0.5 because the second function is
# undefined where :math:`\sin^3 x + \cos^3 x < 0`, beyond :math:`x = 3\pi/4 \approx 2.36`.
#
# Near the bottom of the V the round-off errors behave like noise: at some steps they happen
# to cancel and the error dips far below its typical size. Such lucky steps cannot be
# predicted, so the "best step" below is where the *median* error over half a decade of
# neighbouring steps is smallest.

methods = {  # method: (smallest step, colour, line style)
    "forward": (1e-15, "tab:blue", "-"),
    "backward": (1e-15, "tab:purple", "--"),
    "central": (1e-15, "tab:orange", "-"),
    "complex": (1e-20, "tab:green", "-"),
    "richardson": (1e-12, "tab:red", "-"),
}
per_decade = 8
largest = 0.5


def step_grid(smallest):
    decades = np.log10(largest) - np.log10(smallest)
    return np.logspace(
        np.log10(smallest), np.log10(largest), int(decades * per_decade) + 1
    )


def running_median(errors, half_window=per_decade // 4):
    return np.array(
        [
            np.median(errors[max(0, i - half_window) : i + half_window + 1])
            for i in range(len(errors))
        ]
    )


results = {}  # (label, method) -> steps, errors, median errors
for label, (f, x) in cases.items():
    exact = taylor[label][1]
    for method, (smallest, _, _) in methods.items():
        steps = step_grid(smallest)
        errors = np.array(
            [abs(numerical.derivative(f, x, h=h, method=method) - exact) for h in steps]
        )
        results[label, method] = steps, errors, running_median(errors)

# %%
# The slopes of the truncation branch
# -----------------------------------
#
# Taylor's theorem predicts errors :math:`\pm\frac{h}{2} f''` for the one-sided differences
# and :math:`\pm\frac{h^2}{6} f'''` for the central difference and the complex step, so on
# log-log axes the right branch has slope 1 or 2. A least-squares fit over
# :math:`10^{-4} \le h \le 10^{-2}`, where round-off is negligible, confirms it.

expected_order = {"forward": 1, "backward": 1, "central": 2, "complex": 2}
slopes = {}
for (label, method), (steps, errors, _) in results.items():
    if method in expected_order:
        fit = (steps >= 1e-4) & (steps <= 1e-2)
        slopes[label, method] = np.polyfit(
            np.log10(steps[fit]), np.log10(errors[fit]), 1
        )[0]
        print(f"{method:9} {short[label]:13} slope {slopes[label, method]:.3f}")
        assert abs(slopes[label, method] - expected_order[method]) < 0.05

# %%
# The bottom of the V
# -------------------
#
# Minimising the model error :math:`\frac{|f''|}{2}h + \frac{\varepsilon |f|}{h}` gives
# :math:`h^* = \sqrt{2\varepsilon |f| / |f''|}` for the one-sided differences, and
# minimising :math:`\frac{|f'''|}{6}h^2 + \frac{\varepsilon |f|}{h}` gives
# :math:`h^* = (3\varepsilon |f| / |f'''|)^{1/3}` for the central one. The package cannot know
# :math:`f''` or :math:`f'''`, so its defaults assume they are about as large as :math:`f`:
# :math:`\sqrt{\varepsilon}` and :math:`\varepsilon^{1/3}` (times :math:`\max(1, |x|)`).
# Both the theoretical optimum and the default step land at the bottom of the measured V:
# their errors are within a factor 10 of the best error on the grid. (An error below
# :math:`\varepsilon |f'|`, one rounding of the result, counts as exact.)


def theoretical_step(method, f0, f2, f3):
    if method in ("forward", "backward"):
        return np.sqrt(2 * eps * abs(f0) / abs(f2))
    if method == "central":
        return (3 * eps * abs(f0) / abs(f3)) ** (1 / 3)
    return None  # complex step and Richardson: no round-off branch to balance


summary = {}
for (label, method), (steps, errors, median) in results.items():
    f, x = cases[label]
    f0, f1, f2, f3 = taylor[label]
    best = np.argmin(median)
    best_error = max(median[best], eps * abs(f1))
    default_error = abs(numerical.derivative(f, x, method=method) - f1)
    h_star = theoretical_step(method, f0, f2, f3)
    star_error = (
        None
        if h_star is None
        else abs(numerical.derivative(f, x, h=h_star, method=method) - f1)
    )
    summary[label, method] = steps[best], h_star
    h_star_text = (
        "" if h_star is None else f"   h* = {h_star:.1e} (error {star_error:.1e})"
    )
    print(
        f"{method:10} {short[label]:13} best h = {steps[best]:.1e} "
        f"(error {median[best]:.1e})"
        f"   default h = {numerical.step_size(x, method):.1e} "
        f"(error {default_error:.1e})" + h_star_text
    )
    assert default_error <= 10 * best_error
    if star_error is not None:
        assert star_error <= 10 * best_error
    # A V: both ends of the difference-quotient curves are far worse than the bottom.
    if method in ("forward", "backward", "central"):
        assert min(errors[0], errors[-1]) > 100 * best_error

# %%
# The picture
# -----------
#
# Thin lines are the measured errors (exact zeros are drawn at :math:`10^{-17}`); the
# triangles mark the best step, the stars the default step, and the dotted vertical lines
# the theoretical optimum :math:`h^*`. On the right, forward and backward lie on top of each
# other (errors :math:`\pm\frac{h}{2} f''`), and so do central and complex step
# (:math:`\pm\frac{h^2}{6} f'''`). Richardson extrapolation is most accurate at large steps,
# with real arithmetic only: its truncation branch is so steep that it only shows at the
# right edge. The complex step has no left branch at all, since it never subtracts.

floor = 1e-17
fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
for ax, label in zip(axes, cases, strict=True):
    f, x = cases[label]
    f1 = taylor[label][1]
    for method, (_, color, style) in methods.items():
        steps, errors, median = results[label, method]
        name = method
        if (label, method) in slopes:
            name += f" (slope {slopes[label, method]:.2f})"
        ax.loglog(
            steps,
            np.maximum(errors, floor),
            style,
            color=color,
            linewidth=1,
            label=name,
        )
        h_best, h_star = summary[label, method]
        best = np.argmin(median)
        ax.plot(
            h_best,
            max(median[best], floor),
            "v",
            color=color,
            markersize=10,
            markeredgecolor="black",
            zorder=4,
        )
        h_default = numerical.step_size(x, method)
        default_error = abs(numerical.derivative(f, x, method=method) - f1)
        ax.plot(
            h_default,
            max(default_error, floor),
            "*",
            color=color,
            markersize=15,
            markeredgecolor="black",
            zorder=5,
        )
        if h_star is not None and method != "backward":  # backward shares forward's h*
            ax.axvline(h_star, color=color, linestyle=":", linewidth=1.5)
    ax.set_title(label)
    ax.set_xlabel("step $h$")
    ax.set_ylim(floor / 3, 30)
    ax.grid(True, which="major", alpha=0.3)
axes[0].set_ylabel(r"error $|D(h) - f'(x)|$")
for marker, text in [("v", "best step (median)"), ("*", "default step_size")]:
    axes[0].plot(
        [],
        [],
        marker,
        color="white",
        markeredgecolor="black",
        markersize=10,
        label=text,
    )
axes[0].plot([], [], ":", color="gray", label="theoretical optimum $h^*$")
axes[0].legend(loc="lower left", bbox_to_anchor=(0, 0.08), fontsize=8)
fig.suptitle("Finite-difference error: truncation (right) versus round-off (left)")
fig.tight_layout()
plt.show()
