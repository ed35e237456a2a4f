"""The benchmark cases. Each returns a JSON-ready dict; run.py collects them.

Every library's result is checked against autodiff_ref's before it is timed:
a fast wrong answer would be no benchmark.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import itertools
import json
import pstats
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical

from . import peers
from .timing import measure, paired_ratio

# Cheap gradient principle: grad f should cost a small constant times f.
CHEAP_GRADIENT_TARGET = 2.2


# -- 1 and 2: gradients on arrays, against the peers ----------------------------
def mlp_loss(xp: Any, params: list, X: Any, Y: Any) -> Any:
    """Mean softmax cross-entropy of a 784-256-10 tanh network on a batch."""
    W1, b1, W2, b2 = params
    logits = xp.tanh(X @ W1 + b1) @ W2 + b2
    # log-sum-exp is unchanged by a shift, so the shift is a constant (no derivative).
    shifted = logits - xp.const_rowmax(logits)
    return (
        xp.sum(xp.log(xp.rowsum(xp.exp(shifted))) - xp.rowsum(Y * shifted)) / X.shape[0]
    )


def rosenbrock(xp: Any, x: Any) -> Any:
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def scalar(xp: Any, x: tuple) -> Any:
    x1, x2 = x
    return xp.log(x1) + x1 * x2 - xp.sin(x2)


def problems() -> dict[str, tuple[Callable, Any, tuple, str]]:
    """name -> (function, parameters, data, description)."""
    rng = np.random.default_rng(0)
    batch, sizes = 256, (784, 256, 10)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params += [
            rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
            0.1 * rng.standard_normal(n_out),
        ]
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return {
        "mlp": (mlp_loss, params, (X, Y),
                "softmax cross-entropy of a 784-256-10 tanh MLP, batch 256"),
        "rosenbrock": (rosenbrock, rng.uniform(-2, 2, 10_000), (), "Rosenbrock, n = 10^4"),
        "scalar": (scalar, (2.0, 5.0), (), "ln(x1) + x1 x2 - sin(x2) at (2, 5)"),
    }  # fmt: skip


def _check(lib: peers.Library, got: Any, want: Any) -> None:
    for g, w in zip(peers.leaves(got), peers.leaves(want), strict=True):
        g = lib.to_numpy(g)
        if not np.allclose(g, w, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{lib.name}'s gradient differs from autodiff_ref's")


def gradients(repeats: int) -> dict[str, Any]:
    """time(grad f) / time(f) per library, and autodiff_ref's grad time over each peer's."""
    libraries: dict[str, peers.Library] = {}
    skipped = {}
    for name in peers.NAMES:
        try:
            libraries[name] = peers.load(name)
        except ImportError as exc:
            skipped[name] = f"not installed: {exc}"
    out: dict[str, Any] = {
        "target": CHEAP_GRADIENT_TARGET,
        "skipped": skipped,
        "versions": {name: lib.version for name, lib in libraries.items()},
        "problems": {},
    }
    for pname, (fun, params, data, description) in problems().items():
        fns, reference = {}, None
        for name, lib in libraries.items():
            f, g = lib.calls(fun, params, data)
            grad_value = g()
            reference = grad_value if reference is None else reference
            _check(lib, grad_value, reference)
            fns[f"{name}/f"], fns[f"{name}/grad"] = f, g
        times = measure(fns, repeats)
        ours = times["autodiff_ref/grad"]["median"]
        result: dict[str, Any] = {"description": description, "libraries": {}}
        for name in libraries:
            f_t, g_t = times[f"{name}/f"], times[f"{name}/grad"]
            result["libraries"][name] = {
                "f": f_t, "grad": g_t, "grad_over_f": g_t["median"] / f_t["median"],
                "ours_grad_over_this_grad": ours / g_t["median"],
            }  # fmt: skip
        if pname != "scalar":
            ratio = result["libraries"]["autodiff_ref"]["grad_over_f"]
            result["cheap_gradient_met"] = ratio <= CHEAP_GRADIENT_TARGET
            if "autograd" in libraries:
                result["no_slower_than_autograd"] = (
                    ours <= times["autograd/grad"]["median"]
                )
            calls = max(20, int(1.0 / ours))  # about a second of gradients
            result["profile"] = profile(
                libraries["autodiff_ref"], fun, params, data, calls
            )
        out["problems"][pname] = result
    return out


def profile(
    lib: peers.Library, fun: Callable, params: Any, data: tuple, calls: int = 20
) -> str:
    """Where autodiff_ref's gradient spends its time: cProfile's top entries by own time."""
    return _profile_calls(lib.calls(fun, params, data)[1], calls)


def _profile_calls(fn: Callable[[], Any], calls: int) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [fn() for _ in range(calls)])
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("tottime")
    stats.print_stats(15)
    lines = stream.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "function calls" in line)
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


# -- 2b: eager reverse mode, head to head (issue 19's performance targets) ---------
#: ours / peer, as the median of the per-round ratios: at most this.
EAGER_TARGET = 1.0


def tanh_net(xp: Any, params: list, X: Any) -> Any:
    """``sum(tanh(tanh(X @ W1) @ W2) ** 2)``: big matrix products, few operations."""
    W1, W2 = params
    return xp.sum(xp.tanh(xp.tanh(X @ W1) @ W2) ** 2)


def small_mlp(xp: Any, params: list, x: Any, y: Any) -> Any:
    """Squared error of a 10-10-1 tanh MLP on one example: Python overhead is all."""
    W1, b1, W2, b2 = params
    return xp.sum((xp.tanh(x @ W1 + b1) @ W2 + b2 - y) ** 2)


def eager_problems() -> dict[str, tuple[Callable, Any, tuple, str, str]]:
    """name -> (function, parameters, data, description, the peer it is timed against)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((256, 784))
    net = [
        rng.standard_normal((784, 256)) / 28.0,
        rng.standard_normal((256, 10)) / 16.0,
    ]
    x, y = rng.standard_normal((1, 10)), rng.standard_normal((1, 1))
    mlp = [rng.standard_normal((10, 10)) / 3.0, rng.standard_normal(10),
           rng.standard_normal((10, 1)) / 3.0, rng.standard_normal(1)]  # fmt: skip
    return {
        "tanh_net": (tanh_net, net, (X,), "sum(tanh(tanh(X @ W1) @ W2) ** 2), X 256x784, "
                     "W1 784x256, W2 256x10", "autograd"),
        "small_mlp": (small_mlp, mlp, (x, y), "squared error of a 10-10-1 tanh MLP, "
                      "batch 1 (forward and backward)", "torch"),
    }  # fmt: skip


def eager_reverse(repeats: int) -> dict[str, Any]:
    """autodiff_ref's eager grad against one peer per problem, in alternating rounds."""
    out: dict[str, Any] = {"target": EAGER_TARGET, "skipped": {}, "problems": {}}
    ours = peers.load("autodiff_ref")
    for pname, (fun, params, data, description, peer) in eager_problems().items():
        try:
            theirs = peers.load(peer)
        except ImportError as exc:
            out["skipped"][pname] = f"{peer} not installed: {exc}"
            continue
        ours_grad = ours.calls(fun, params, data)[1]
        their_grad = theirs.calls(fun, params, data)[1]
        reference = ours_grad()
        _check(theirs, their_grad(), reference)
        times = measure(
            {"autodiff_ref": ours_grad, peer: their_grad}, repeats, keep_samples=True
        )
        ratio = paired_ratio(times["autodiff_ref"], times[peer])
        calls = max(20, int(0.5 / times["autodiff_ref"]["median"]))  # half a second
        out["problems"][pname] = {
            "description": description, "peer": peer, "peer_version": theirs.version,
            "times": times, "ours_over_peer": ratio,
            "target_met": ratio["median"] <= EAGER_TARGET,
            "profile": _profile_calls(ours_grad, calls),
        }  # fmt: skip
    return out


# -- 3: scalar graphs against micrograd -----------------------------------------
def chain(w: list, n_ops: int, relu: Callable[[Any], Any]) -> Any:
    """``n_ops`` scalar operations: ``v = relu(v * w[i] + w[i + 1])``, three at a time.

    A chain, not a tree: the graph is as deep as it is long, which is what a
    recursive topological sort (micrograd's) finds hardest.
    """
    v, k = w[0], len(w)
    for i in range(n_ops // 3):
        v = relu(v * w[i % k] + w[(i + 1) % k])
    return v


def _weights(k: int = 10) -> list[float]:
    # Python floats, as a scalar graph is built from (NumPy scalars are slower
    # to compute with in both libraries, and not what micrograd is written for).
    return [float(v) for v in np.random.default_rng(1).uniform(0.5, 0.9, k)]


def _ours_graph(n_ops: int) -> list[float]:
    return ad.grad(lambda w: chain(w, n_ops, lambda v: anp.maximum(v, 0.0)))(_weights())


def _micrograd_graph(n_ops: int) -> list[float]:
    from micrograd.engine import Value

    w = [Value(x) for x in _weights()]
    chain(w, n_ops, Value.relu).backward()
    return [x.grad for x in w]


GRAPHS = {"autodiff_ref": _ours_graph, "micrograd": _micrograd_graph}


def _with_deep_stack(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a thread with a big stack: micrograd's topological sort recurses
    once per node."""
    sys.setrecursionlimit(10**7)
    threading.stack_size(1 << 30)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    threading.stack_size(0)
    if "error" in box:
        raise box["error"]
    return box["value"]


def scalar_graph(repeats: int, n_ops: int = 10**5, big: int = 10**6) -> dict[str, Any]:
    """Build and backward of a scalar graph: time against micrograd, and peak memory."""
    out: dict[str, Any] = {
        "n_ops": n_ops, "ops": "v = relu(v * w[i] + w[i+1]), a chain; relu is "
        "autodiff_ref.numpy.maximum(v, 0.0) and micrograd's Value.relu", "target_speedup": 3.0,
    }  # fmt: skip
    try:
        import micrograd  # noqa: F401
    except ImportError as exc:
        out["skipped"] = f"micrograd not installed: {exc}"
        names = ["autodiff_ref"]
    else:
        names = list(GRAPHS)
        ours, theirs = (
            _with_deep_stack(functools.partial(g, n_ops)) for g in GRAPHS.values()
        )
        if not np.allclose(ours, theirs, rtol=1e-9):
            raise AssertionError("micrograd's gradient differs from autodiff_ref's")
        out["micrograd_version"] = peers._version("micrograd")
    # micrograd's graph is full of reference cycles, so the cycle collector runs
    # while it is built; frozen, the objects this process already holds (JAX's,
    # PyTorch's) are not rescanned each time, as they would not be in a fresh process.
    gc.freeze()
    try:
        times = _with_deep_stack(
            lambda: measure(
                {name: functools.partial(GRAPHS[name], n_ops) for name in names},
                repeats,
            )
        )
    finally:
        gc.unfreeze()
    out["times"] = times
    if "micrograd" in times:
        speedup = times["micrograd"]["median"] / times["autodiff_ref"]["median"]
        out["micrograd_over_ours"] = speedup
        out["target_met"] = speedup >= out["target_speedup"]
    # Peak memory, each in a fresh process so one run's garbage is not another's peak.
    out["memory"] = [_in_subprocess(name, n_ops) for name in names]
    out["memory"].append(_in_subprocess("autodiff_ref", big))
    out["profile"] = _profile_calls(lambda: _ours_graph(n_ops // 10), calls=3)
    return out


def _in_subprocess(name: str, n_ops: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.cases", name, str(n_ops)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {"library": name, "n_ops": n_ops, **json.loads(done.stdout)}


def _rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MB.

    Not ``ru_maxrss``: it survives exec, so a child started by a big parent
    would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def _child(name: str, n_ops: int) -> None:
    """One graph in this process: its time and the process's peak resident memory."""
    GRAPHS[name](10)  # imports and first-call costs are not the graph's
    baseline = _rss_mb("VmRSS")
    start = time.perf_counter()
    _with_deep_stack(lambda: GRAPHS[name](n_ops))
    seconds = time.perf_counter() - start
    peak = _rss_mb("VmHWM")
    print(
        json.dumps(
            {"seconds": seconds, "baseline_rss_mb": baseline, "peak_rss_mb": peak}
        )
    )


# -- 4: forward against reverse mode ---------------------------------------------
def crossover(
    repeats: int, sizes: tuple[int, ...] = (1, 10, 100, 1000)
) -> dict[str, Any]:
    """jacfwd and jacrev of ``tanh(A @ x)``, ``A`` of shape (m, n), for every n and m."""
    rng = np.random.default_rng(2)
    cells = []
    for n in sizes:
        for m in sizes:
            A, x = rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n)

            def f(x: Any, A: Any = A) -> Any:
                return anp.tanh(anp.matmul(A, x))

            fwd, rev = ad.jacfwd(f), ad.jacrev(f)
            if not np.allclose(fwd(x), rev(x), rtol=1e-12, atol=1e-14):
                raise AssertionError(f"jacfwd and jacrev disagree at n={n}, m={m}")
            calls = {
                "jacfwd": functools.partial(fwd, x),
                "jacrev": functools.partial(rev, x),
            }
            t = measure(calls, repeats, min_sample=0.02)
            ratio = t["jacfwd"]["median"] / t["jacrev"]["median"]
            cells.append({"n": n, "m": m, **t, "fwd_over_rev": ratio})
    return {
        "function": "tanh(A @ x), A of shape (m, n)",
        "sizes": list(sizes),
        "cells": cells,
    }


# -- 5: numerical differentiation against numdifftools ---------------------------
FUNCTIONS: dict[str, tuple[Callable, Callable]] = {
    # name -> (function from autodiff_ref's ops: it also takes complex numbers and duals,
    #          its derivative by hand, only to check AD)
    "exp": (anp.exp, np.exp),
    "sin": (anp.sin, np.cos),
    "tanh": (anp.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "log": (anp.log, lambda x: 1 / x),
    "1/x": (lambda x: 1 / x, lambda x: -1 / x**2),
}
POINTS = (0.5, 1.0, 2.0, 5.0)
METHODS = ("forward", "backward", "central", "complex", "richardson")


class Counted:
    """``f`` that counts its calls and the points it was evaluated at (arrays count each)."""

    def __init__(self, f: Callable) -> None:
        self.f, self.calls, self.points = f, 0, 0

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        self.points += int(getattr(x, "size", 1))  # np.size would refuse a Dual
        return self.f(x)


def numerical_methods() -> dict[str, Any]:
    """Relative error against AD, and calls of f, per derivative for each method."""
    try:
        import numdifftools as nd
    except ImportError as exc:
        nd, skipped = None, f"numdifftools not installed: {exc}"
    methods: dict[str, Callable[[Callable, float], float]] = {
        f"autodiff_ref.numerical {m}": functools.partial(numerical.derivative, method=m)
        for m in METHODS
    }
    if nd is not None:
        methods["numdifftools.Derivative (default)"] = lambda f, x: float(
            nd.Derivative(f)(x)
        )
    methods["AD (autodiff_ref.derivative)"] = ad.derivative
    rows = []
    for fname, (f, by_hand) in FUNCTIONS.items():
        for x in POINTS:
            exact = float(ad.derivative(f, x))
            if not np.isclose(exact, by_hand(x), rtol=1e-14, atol=0):
                raise AssertionError(f"AD's derivative of {fname} at {x} is wrong")
            for method, differentiate in methods.items():
                counted = Counted(f)
                value = float(differentiate(counted, x))
                rows.append({
                    "function": fname, "x": x, "method": method,
                    "relative_error": abs(value - exact) / abs(exact),
                    "calls": counted.calls, "points": counted.points,
                })  # fmt: skip
    out: dict[str, Any] = {"points": list(POINTS), "rows": rows}
    if nd is None:
        out["skipped"] = skipped
    else:
        out["numdifftools_version"] = nd.__version__
    return out


if (
    __name__ == "__main__"
):  # python -m benchmarks.cases LIBRARY N_OPS (see _in_subprocess)
    _child(sys.argv[1], int(sys.argv[2]))


# -- 6: derivatives of high order: Taylor mode against nested dual numbers ---------
def _nested_duals(f: Callable[[Any], Any], order: int) -> Callable[[Any], Any]:
    """f's order-th derivative by nesting first-order forward passes (one per order)."""
    g = f
    for _ in range(order):
        g = (lambda h: lambda t: ad.derivative(h, t))(g)
    return g


def _fitted_exponent(orders: list[int], seconds: list[float]) -> float:
    """The slope of log(time) against log(order): time ~ order ** slope."""
    return float(np.polyfit(np.log(orders), np.log(seconds), 1)[0])


def taylor(
    repeats: int,
    nested_orders: tuple[int, ...] = (2, 4, 6, 8, 10),
    jet_orders: tuple[int, ...] = (2, 4, 6, 8, 10, 20, 30, 50, 75, 100),
) -> dict[str, Any]:
    """Time the order-n derivative of exp(sin(x)) at 0.5 both ways, for several n."""

    def f(x: Any) -> Any:
        return anp.exp(anp.sin(x))

    x = 0.5
    rows = []
    for n in sorted(set(nested_orders) | set(jet_orders)):
        calls: dict[str, Callable[[], Any]] = {}
        if n in jet_orders:
            calls["jet"] = functools.partial(ad.derivative, f, x, n)
        if n in nested_orders:
            calls["nested duals"] = functools.partial(_nested_duals(f, n), x)
        if len(calls) == 2:  # both methods must agree before either is timed
            a, b = (fn() for fn in calls.values())
            if not np.isclose(a, b, rtol=1e-10, atol=0):
                raise AssertionError(
                    f"jet and nested duals disagree at order {n}: {a} vs {b}"
                )
        # The nested duals' samples are long (0.3 s at order 10): fewer of them.
        few = max(3, repeats // 3) if "nested duals" in calls and n >= 8 else repeats
        t = measure(calls, few, min_sample=0.02)
        rows.append({"order": n, **{name: stats for name, stats in t.items()}})
    nested = [
        (r["order"], r["nested duals"]["median"]) for r in rows if "nested duals" in r
    ]
    jets = [(r["order"], r["jet"]["median"]) for r in rows if "jet" in r]
    both = [r for r in rows if "jet" in r and "nested duals" in r]
    top = max(both, key=lambda r: r["order"])
    order_50 = next(r for r in rows if r["order"] == 50)
    nested_orders_run, nested_seconds = map(list, zip(*nested, strict=True))
    return {
        "function": "the n-th derivative of exp(sin(x)) at x = 0.5",
        "rows": rows,
        # Nesting doubles the work (at least) with each order: exponential, so the
        # factor per order, from the slope of log(time) against the order itself.
        "nested_growth_per_order": float(
            np.exp(np.polyfit(nested_orders_run[1:], np.log(nested_seconds[1:]), 1)[0])
        ),
        "jet_exponent": _fitted_exponent(
            *map(list, zip(*[j for j in jets if j[0] >= 10], strict=True))
        ),
        "speedup_order": top["order"],
        "speedup": top["nested duals"]["median"] / top["jet"]["median"],
        "jet_order_50_ms": 1e3 * order_50["jet"]["median"],
    }


# -- 7: programs: jit against NumPy written by hand --------------------------------
def _rosenbrock_grad_by_hand(x: np.ndarray) -> np.ndarray:
    inner = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * inner - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * inner
    return g


def _mlp_grad_by_hand(params: list, X: np.ndarray, Y: np.ndarray) -> list:
    W1, b1, W2, b2 = params
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    # d/dlogits of log(sum(exp)) - sum(Y * shifted) per row, over the batch
    d_logits = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    d_hidden = (d_logits @ W2.T) * (1.0 - hidden**2)
    return [
        X.T @ d_hidden,
        d_hidden.sum(axis=0),
        hidden.T @ d_logits,
        d_logits.sum(axis=0),
    ]


def _scalar_grad_by_hand(x: tuple) -> tuple:
    import math

    x1, x2 = x
    return (1.0 / x1 + x2, x1 - math.cos(x2))


def _math_xp() -> Any:
    import math

    return SimpleNamespace(log=math.log, sin=math.sin)


_NUMPY_XP = {
    "rosenbrock": lambda: SimpleNamespace(sum=np.sum),
    "mlp": lambda: SimpleNamespace(
        tanh=np.tanh,
        exp=np.exp,
        log=np.log,
        sum=np.sum,
        rowsum=lambda x: np.sum(x, axis=1),
        const_rowmax=lambda x: x.max(axis=1, keepdims=True),
    ),
    "scalar": _math_xp,
}
_BY_HAND = {
    "rosenbrock": _rosenbrock_grad_by_hand,
    "mlp": _mlp_grad_by_hand,
    "scalar": _scalar_grad_by_hand,
}
#: The issue's targets: jit(grad f) / hand-written gradient, jit(f) / plain f, and on
#: the scalar function jit(grad f) / jit(f).
PROGRAM_TARGETS = {"jit_grad_over_by_hand": 1.5, "jit_f_over_plain_f": 1.2,
                   "scalar_jit_grad_over_jit_f": 2.0}  # fmt: skip


def programs(
    repeats: int, peer_names: tuple[str, ...] = ("jax.jit", "torch")
) -> dict[str, Any]:
    """jit(f) and jit(grad f) against NumPy by hand, the interpreter, jax.jit and torch."""
    libraries = {}
    skipped = {}
    for name in peer_names:
        try:
            libraries[name] = peers.load(name)
        except ImportError as exc:
            skipped[name] = f"not installed: {exc}"
    out: dict[str, Any] = {
        "targets": PROGRAM_TARGETS,
        "skipped": skipped,
        "problems": {},
    }
    for pname, (fun, params, data, description) in problems().items():
        result = _program_problem(
            pname, fun, params, data, description, libraries, repeats
        )
        ratios = result["ratios"]
        if pname == "scalar":
            met = {"scalar_jit_grad_over_jit_f": ratios["jit_grad_over_jit_f"] <= 2.0}
        else:
            met = {k: ratios[k] <= PROGRAM_TARGETS[k]
                   for k in ("jit_grad_over_by_hand", "jit_f_over_plain_f")}  # fmt: skip
        result["targets_met"] = met
        out["problems"][pname] = result
    return out


def _program_problem(
    pname: str, fun: Callable, params: Any, data: tuple, description: str,
    libraries: dict[str, peers.Library], repeats: int,
) -> dict[str, Any]:  # fmt: skip
    xp = peers.load("autodiff_ref").xp
    plain_xp = _NUMPY_XP[pname]()

    def f_ad(q: Any, *d: Any) -> Any:
        return fun(xp, q, *d)

    grad_ad = ad.grad(f_ad)
    jit_f, jit_grad = ad.jit(f_ad), ad.jit(grad_ad)
    by_hand = _BY_HAND[pname]
    reference = grad_ad(params, *data)
    for got in (jit_grad(params, *data), by_hand(params, *data)):
        for g, w in zip(peers.leaves(got), peers.leaves(reference), strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        jit_f(params, *data), fun(plain_xp, params, *data), rtol=1e-12
    )
    # Tracing time: a fresh jit's first call (trace, simplify, compile, run) minus
    # a call that reuses the code.
    tracing = []
    for _ in range(3):
        fresh = ad.jit(grad_ad)
        start = time.process_time()
        fresh(params, *data)
        tracing.append(time.process_time() - start)
    fns: dict[str, Callable[[], Any]] = {
        "numpy/f": lambda: fun(plain_xp, params, *data),
        "numpy/grad by hand": lambda: by_hand(params, *data),
        "autodiff_ref/f": lambda: f_ad(params, *data),
        "autodiff_ref/grad": lambda: grad_ad(params, *data),
        "autodiff_ref.jit/f": lambda: jit_f(params, *data),
        "autodiff_ref.jit/grad": lambda: jit_grad(params, *data),
    }
    for name, lib in libraries.items():
        f, g = lib.calls(fun, params, data)
        _check(lib, g(), reference)
        fns[f"{name}/f"], fns[f"{name}/grad"] = f, g
    times = measure(fns, repeats)
    med = {k: v["median"] for k, v in times.items()}
    return {
        "description": description,
        "times": times,
        "equations": {
            "f": len(jit_f.program(params, *data)),
            "grad": len(jit_grad.program(params, *data)),
        },
        "tracing_seconds": float(np.median(tracing)) - med["autodiff_ref.jit/grad"],
        "ratios": {
            "jit_grad_over_by_hand": med["autodiff_ref.jit/grad"] / med["numpy/grad by hand"],
            "jit_f_over_plain_f": med["autodiff_ref.jit/f"] / med["numpy/f"],
            "jit_grad_over_jit_f": med["autodiff_ref.jit/grad"] / med["autodiff_ref.jit/f"],
            "by_hand_over_plain_f": med["numpy/grad by hand"] / med["numpy/f"],
            "interpreter_grad_over_plain_f": med["autodiff_ref/grad"] / med["numpy/f"],
            "interpreter_grad_over_jit_grad": (
                med["autodiff_ref/grad"] / med["autodiff_ref.jit/grad"]
            ),
            **{f"{name}_grad_over_f": med[f"{name}/grad"] / med[f"{name}/f"]
               for name in libraries},
        },
    }  # fmt: skip


# -- 2c: Jacobians and per-example gradients through vmap (issue 22) ---------------
def _tanh_map(xp: Any, v: Any, A: Any) -> Any:
    return xp.tanh(A @ v)


def _tanh_sum(xp: Any, v: Any, A: Any) -> Any:
    return xp.sum(xp.tanh(A @ v))


def _ours_jacobian_calls(
    kind: str, v: np.ndarray, A: np.ndarray
) -> dict[str, Callable[[], Any]]:
    """autodiff_ref's transform, and a Python loop of the unbatched pass it replaces."""
    xp = SimpleNamespace(tanh=anp.tanh, sum=anp.sum)
    basis = list(np.eye(len(v)))
    if kind == "hessian":
        s = functools.partial(_tanh_sum, xp, A=A)
        h = ad.hessian(s)
        # The Hessian is symmetric: row i is the Hessian-vector product with e_i.
        return {
            "autodiff_ref": lambda: h(v),
            "loop": lambda: np.stack([ad.hvp(s, (v,), (e,)) for e in basis]),
        }
    f = functools.partial(_tanh_map, xp, A=A)
    if kind == "jacrev":
        j = ad.jacrev(f)

        def loop() -> Any:  # one recorded pass, one backward sweep per row
            _, vjp_fn = ad.vjp(f, v)
            return np.stack([vjp_fn(e)[0] for e in basis])

        return {"autodiff_ref": lambda: j(v), "loop": loop}
    j = ad.jacfwd(f)
    return {  # one forward pass per column
        "autodiff_ref": lambda: j(v),
        "loop": lambda: np.stack([ad.jvp(f, (v,), (e,))[1] for e in basis], axis=1),
    }


def _jax_jacobian_calls(
    kind: str, v: np.ndarray, A: np.ndarray
) -> dict[str, Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    xp = SimpleNamespace(tanh=jnp.tanh, sum=jnp.sum)
    transform = {"jacrev": jax.jacrev, "jacfwd": jax.jacfwd, "hessian": jax.hessian}[
        kind
    ]
    fun = _tanh_sum if kind == "hessian" else _tanh_map
    eager = transform(lambda w, B: fun(xp, w, B))  # A is an argument, not a constant
    jitted = jax.jit(eager)
    vj, Aj = jnp.asarray(v), jnp.asarray(A)
    return {
        f"jax.{kind}": lambda: jax.block_until_ready(eager(vj, Aj)),
        f"jax.jit(jax.{kind})": lambda: jax.block_until_ready(jitted(vj, Aj)),
    }


def _autograd_jacobian_calls(
    kind: str, v: np.ndarray, A: np.ndarray
) -> dict[str, Callable[[], Any]]:
    import autograd
    import autograd.numpy as agnp

    xp = SimpleNamespace(tanh=agnp.tanh, sum=agnp.sum)
    if kind == "hessian":
        h = autograd.hessian(lambda w: _tanh_sum(xp, w, A))
        return {"autograd.hessian": lambda: h(v)}
    # autograd has one Jacobian, by reverse mode: it stands against jacfwd too.
    j = autograd.jacobian(lambda w: _tanh_map(xp, w, A))
    return {"autograd.jacobian": lambda: j(v)}


def _per_example_calls(
    params: list, X: np.ndarray, Y: np.ndarray
) -> dict[str, Callable[[], Any]]:
    """Per-example gradients of :func:`small_mlp`, each library its own way."""
    xp = SimpleNamespace(tanh=anp.tanh, sum=anp.sum)

    def loss(p: Any, x: Any, y: Any) -> Any:
        return small_mlp(xp, p, x, y)

    batched = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    one = ad.grad(loss)
    calls: dict[str, Callable[[], Any]] = {
        "autodiff_ref": lambda: batched(params, X, Y),
        "loop": lambda: _stack_trees(
            [one(params, x, y) for x, y in zip(X, Y, strict=True)]
        ),
    }
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        jxp = SimpleNamespace(tanh=jnp.tanh, sum=jnp.sum)
        jax_batched = jax.vmap(
            jax.grad(lambda p, x, y: small_mlp(jxp, p, x, y)), in_axes=(None, 0, 0)
        )
        jitted = jax.jit(jax_batched)
        pj = [jnp.asarray(a) for a in params]
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
        calls["jax.vmap"] = lambda: jax.block_until_ready(jax_batched(pj, Xj, Yj))
        calls["jax.jit(jax.vmap)"] = lambda: jax.block_until_ready(jitted(pj, Xj, Yj))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as agnp

        axp = SimpleNamespace(tanh=agnp.tanh, sum=agnp.sum)
        ag = autograd.grad(lambda p, x, y: small_mlp(axp, p, x, y))
        # autograd has no vmap: a loop of its gradient is what a user would write.
        calls["autograd loop"] = lambda: _stack_trees(
            [ag(params, x, y) for x, y in zip(X, Y, strict=True)]
        )
    except ImportError:
        pass
    return calls


def _stack_trees(trees: list[list[Any]]) -> list[Any]:
    """A list of per-example gradients (lists of arrays) as one list of stacks."""
    return [np.stack([np.asarray(t[k]) for t in trees]) for k in range(len(trees[0]))]


def jacobians(
    repeats: int, sizes: tuple[int, ...] = (100, 500), batch: int = 256
) -> dict[str, Any]:
    """jacrev, jacfwd and hessian of tanh(A x), and per-example MLP gradients.

    autodiff_ref's transforms (one batched pass, through vmap) against a Python
    loop of the unbatched pass they replace, JAX's transforms with and without
    jit, and autograd. Every result is checked against autodiff_ref's first;
    the ratios are autodiff_ref's time over each other's (median of the
    per-round ratios: below 1, autodiff_ref is faster).
    """
    rng = np.random.default_rng(5)
    out: dict[str, Any] = {"skipped": {}, "problems": {}}
    problems: list[tuple[str, str, dict[str, Callable[[], Any]]]] = []
    for n in sizes:
        A, v = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)
        for kind in ("jacrev", "jacfwd", "hessian"):
            what = "sum(tanh(A x))" if kind == "hessian" else "tanh(A x)"
            calls = _ours_jacobian_calls(kind, v, A)
            for peer in (_jax_jacobian_calls, _autograd_jacobian_calls):
                try:
                    calls.update(peer(kind, v, A))
                except ImportError as exc:
                    out["skipped"][f"{kind}_{n}/{peer.__name__}"] = str(exc)
            problems.append((f"{kind}_{n}", f"{kind} of {what}, n = {n}", calls))
    params = [rng.standard_normal((10, 10)) / 3.0, rng.standard_normal(10),
              rng.standard_normal((10, 1)) / 3.0, rng.standard_normal(1)]  # fmt: skip
    X, Y = rng.standard_normal((batch, 10)), rng.standard_normal((batch, 1))
    problems.append((
        "per_example",
        f"per-example gradients of a 10-10-1 tanh MLP's squared error, batch {batch}",
        _per_example_calls(params, X, Y),
    ))  # fmt: skip
    for pname, description, calls in problems:
        reference = calls["autodiff_ref"]()
        for name, call in calls.items():
            for got, want in zip(peers.leaves(call()), peers.leaves(reference),
                                 strict=True):  # fmt: skip
                if not np.allclose(np.asarray(got), want, rtol=1e-9, atol=1e-12):
                    raise AssertionError(f"{name} differs from autodiff_ref on {pname}")
        times = measure(calls, repeats, keep_samples=True)
        out["problems"][pname] = {
            "description": description,
            "times": times,
            "ours_over": {
                name: paired_ratio(times["autodiff_ref"], times[name])
                for name in calls
                if name != "autodiff_ref"
            },
        }
    return out
