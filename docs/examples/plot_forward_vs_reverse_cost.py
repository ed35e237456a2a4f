r"""
Forward vs reverse mode: cost grows with inputs or outputs
==========================================================

For :math:`f: \mathbb{R}^n \to \mathbb{R}^m`, one forward-mode pass (:func:`autodiff_ref.jvp`)
gives one *column* of the :math:`m \times n` Jacobian and one reverse-mode pass
(:func:`autodiff_ref.vjp`) gives one *row*. Building the Jacobian column by column therefore
costs a number of passes that grows with the number of inputs :math:`n`, and row by row with the
number of outputs :math:`m`. We time both on this machine (CPU time), for :math:`n` from 1 to
64 with one output and for :math:`m` from 1 to 64 with one input, and plot the times on log-log
axes.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp

rng = np.random.default_rng(0)


def median_time(compute, repeats=7):
    """The median CPU time of ``compute()``, in seconds.

    CPU time, not wall-clock time: the time this process computed, which other
    processes keeping the machine busy do not add to.
    """
    times = []
    for _ in range(repeats):
        start = time.process_time()
        compute()
        times.append(time.process_time() - start)
    return float(np.median(times))


# %%
# A function with n inputs and m outputs
# --------------------------------------
#
# :math:`f(x) = B\,\tanh(Ax)^2` with a hidden width of 16, like a tiny network. Every
# evaluation does the same amount of Python-level work whatever :math:`n` and :math:`m`, so
# any growth in the timings comes from the number of passes.


def make_f(n, m):
    A = rng.standard_normal((16, n)) / np.sqrt(n)
    B = rng.standard_normal((m, 16)) / 4

    def f(x):
        h = anp.tanh(A @ x)
        return B @ (h * h)

    return f, A, B


def jacobian_by_hand(A, B, x):
    """d/dx of B tanh(Ax)^2 is B diag(2 tanh(Ax) (1 - tanh(Ax)^2)) A."""
    t = np.tanh(A @ x)
    return B @ ((2 * t * (1 - t**2))[:, None] * A)


def by_columns(f, x):
    """n forward passes: the JVP along each unit vector is one column."""
    return np.stack([ad.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)], axis=1)


def by_rows(f, x, m):
    """m reverse passes: the VJP with each unit vector is one row."""
    return np.stack([ad.vjp(f, x)[1](e)[0] for e in np.eye(m)], axis=0)


# %%
# Timing both ways
# ----------------
#
# Both constructions must give the same Jacobian as the formula by hand. Then each is timed
# (median of 7 runs) in two sweeps: growing :math:`n` with :math:`m = 1`, and growing
# :math:`m` with :math:`n = 1`.

sizes = np.array([1, 2, 4, 8, 16, 32, 64])
times = {(sweep, way): [] for sweep in ("n", "m") for way in ("columns", "rows")}
for sweep in ("n", "m"):
    for size in sizes:
        n, m = (size, 1) if sweep == "n" else (1, size)
        f, A, B = make_f(n, m)
        x = rng.standard_normal(n)
        np.testing.assert_allclose(
            by_columns(f, x), jacobian_by_hand(A, B, x), atol=1e-13
        )
        np.testing.assert_allclose(
            by_rows(f, x, m), jacobian_by_hand(A, B, x), atol=1e-13
        )
        times[sweep, "columns"].append(median_time(lambda f=f, x=x: by_columns(f, x)))
        times[sweep, "rows"].append(median_time(lambda f=f, x=x, m=m: by_rows(f, x, m)))

for sweep, fixed in (("n", "m = 1"), ("m", "n = 1")):
    print(f"{sweep} ({fixed}):")
    for size, tc, tr in zip(
        sizes, times[sweep, "columns"], times[sweep, "rows"], strict=True
    ):
        print(
            f"  {size:3d}   by columns {1e3 * tc:8.3f} ms   by rows {1e3 * tr:8.3f} ms"
        )

# %%
# The cost follows the number of passes
# -------------------------------------
#
# With one output, the Jacobian is a single row: reverse mode gets it in one pass whatever
# :math:`n`, while forward mode needs :math:`n` passes and its time grows in proportion (slope
# 1 on log-log axes). With one input the roles swap. These asserts are on times, so they
# are made so that a busy machine cannot flip them: the times are CPU times (other
# processes do not add to them) and the margins are wide, a factor of 10 asked where the
# model predicts 64, and 8 allowed where it predicts 1.

for sweep, grows, flat in (("n", "columns", "rows"), ("m", "rows", "columns")):
    t_grows, t_flat = np.array(times[sweep, grows]), np.array(times[sweep, flat])
    assert t_grows[-1] > 10 * t_grows[0], (sweep, t_grows)
    assert t_flat[-1] < 8 * t_flat[0], (sweep, t_flat)
    assert t_grows[-1] > 5 * t_flat[-1], (sweep, t_grows, t_flat)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
for ax, sweep, label in zip(
    axes,
    ("n", "m"),
    ("inputs $n$ (one output)", "outputs $m$ (one input)"),
    strict=True,
):
    columns, rows = (
        1e3 * np.array(times[sweep, "columns"]),
        1e3 * np.array(times[sweep, "rows"]),
    )
    ax.loglog(sizes, columns, "o-", label="forward mode: one column per pass (jvp)")
    ax.loglog(
        sizes, rows, "s-", color="C3", label="reverse mode: one row per pass (vjp)"
    )
    growing = columns if sweep == "n" else rows
    ax.loglog(
        sizes, growing[0] * sizes, ":", color="gray", label="proportional to size"
    )
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel(f"number of {label}")
    ax.grid(alpha=0.3, which="both")
axes[0].set_ylabel("CPU time for the whole Jacobian (ms, median of 7)")
axes[0].set_title("$f: \\mathbb{R}^n \\to \\mathbb{R}$: reverse wins")
axes[1].set_title("$f: \\mathbb{R} \\to \\mathbb{R}^m$: forward wins")
axes[0].legend(fontsize=8, loc="upper left")
fig.tight_layout()

plt.show()
