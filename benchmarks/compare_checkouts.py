"""Eager reverse mode of two checkouts of autodiff_ref, timed in alternating rounds.

Two versions of one package cannot share a process, so each round runs one
child process per checkout, in turns (A, B, A, B, ...): a burst of load from
other programs hits both alike. Each child imports autodiff_ref from the
directory it is given, warms up, and prints the CPU seconds per call of each
case (the median of a few samples). One BLAS thread throughout.

Usage::

    git archive main | tar -x -C /tmp/main_src
    OPENBLAS_NUM_THREADS=1 python benchmarks/compare_checkouts.py /tmp/main_src . --rounds 7

``--cases linalg`` times gradients through the primitives whose VJP is the
transposed JVP (inv, solve, det, cholesky, eigh, svd, qr, prod, max) instead.
It prints, per case, the median over rounds of the per-round ratio B / A
(below 1: B is faster) with the quartiles of those ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

ONE_THREAD = {
    name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
}


def _numpy_namespace(ad: Any) -> Any:
    """autodiff_ref.numpy, or the top level of a checkout from before it existed."""
    return ad.numpy if "numpy" in vars(ad) else ad


def _cases(ad: Any) -> dict[str, Callable[[], Any]]:
    anp = _numpy_namespace(ad)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 784))
    W1 = rng.standard_normal((784, 256)) / 28.0
    W2 = rng.standard_normal((256, 10)) / 16.0

    def tanh_net(w1: Any, w2: Any) -> Any:
        return anp.sum(anp.tanh(anp.tanh(X @ w1) @ w2) ** 2)

    x, y = rng.standard_normal((1, 10)), rng.standard_normal((1, 1))
    mlp = [
        rng.standard_normal((10, 10)) / 3.0,
        rng.standard_normal(10),
        rng.standard_normal((10, 1)) / 3.0,
        rng.standard_normal(1),
    ]

    def small_mlp(p: list) -> Any:
        w1, b1, w2, b2 = p
        return anp.sum((anp.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2)

    weights = [float(v) for v in rng.uniform(0.5, 0.9, 10)]

    def scalar_chain(w: list) -> Any:
        v = w[0]
        for i in range(3000):
            v = anp.maximum(v * w[i % 10] + w[(i + 1) % 10], 0.0)
        return v

    grad_net = ad.grad(tanh_net, argnums=(0, 1))
    grad_mlp, grad_chain = ad.grad(small_mlp), ad.grad(scalar_chain)
    return {
        "tanh net 256x784x256x10": lambda: grad_net(W1, W2),
        "MLP 10-10-1, batch 1": lambda: grad_mlp(mlp),
        "scalar graph, 9000 ops": lambda: grad_chain(weights),
    }


def _linalg_cases(ad: Any) -> dict[str, Callable[[], Any]]:
    anp = _numpy_namespace(ad)
    """Gradients through the primitives whose VJP is now the transposed JVP."""
    rng = np.random.default_rng(1)
    n = 20
    a = rng.standard_normal((n, n)) + n * np.eye(n)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    spd = q @ np.diag(np.arange(1.0, n + 1)) @ q.T
    tall = rng.standard_normal((2 * n, n))
    b = rng.standard_normal((n, 3))
    lin = anp.linalg
    losses = {
        "inv 20x20": (lambda m: anp.sum(lin.inv(m) ** 2), a),
        "solve 20x20": (lambda m: anp.sum(lin.solve(m, b) ** 2), a),
        "det 20x20": (lambda m: lin.det(m), a),
        "cholesky 20x20": (lambda m: anp.sum(lin.cholesky(m) ** 2), spd),
        "eigh 20x20": (lambda m: anp.sum(lin.eigh(m)[1] ** 2 * lin.eigh(m)[0]), spd),
        "svd 40x20": (lambda m: anp.sum(lin.svd(m, full_matrices=False)[0] ** 3), tall),
        "qr 40x20": (lambda m: anp.sum(lin.qr(m)[1] ** 2), tall),
        "prod 50": (lambda v: anp.prod(v), rng.uniform(0.5, 1.5, 50)),
        "max 100x100": (
            lambda m: anp.sum(anp.max(m, axis=0)),
            rng.standard_normal((100, 100)),
        ),
    }
    grads = {name: (ad.grad(f), x) for name, (f, x) in losses.items()}
    return {name: (lambda g=g, x=x: g(x)) for name, (g, x) in grads.items()}


def _child(samples: int) -> None:
    import autodiff_ref as ad

    out = {}
    pick = _linalg_cases if os.environ.get("COMPARE_CASES") == "linalg" else _cases
    for name, fn in pick(ad).items():
        fn()
        number, t = 1, 0.0
        for _ in range(21):  # enough calls per sample for 50 ms: at most 2**20 calls
            start = time.process_time()
            for _ in range(number):
                fn()
            t = (time.process_time() - start) / number
            if t * number >= 0.05 or number >= 2**20:
                break
            number *= 2
        times = []
        for _ in range(samples):
            start = time.process_time()
            for _ in range(number):
                fn()
            times.append((time.process_time() - start) / number)
        out[name] = float(np.median(times))
    print(json.dumps(out))


def _run(src: str, samples: int) -> dict[str, float]:
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": os.path.abspath(src)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(samples)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.abspath(src),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", nargs="?")
    parser.add_argument("b", nargs="?")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--child", type=int, default=0)
    parser.add_argument("--cases", choices=("reverse", "linalg"), default="reverse")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    os.environ["COMPARE_CASES"] = args.cases  # read by the children
    ratios: dict[str, list[float]] = {}
    seconds: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        a, b = _run(args.a, args.samples), _run(args.b, args.samples)
        for name in a:
            ratios.setdefault(name, []).append(b[name] / a[name])
            seconds.setdefault(name, []).append((a[name], b[name]))
    for name, rs in ratios.items():
        ta, tb = np.median(np.array(seconds[name]), axis=0)
        q25, q50, q75 = np.percentile(rs, [25, 50, 75])
        print(
            f"{name:26s} A {ta * 1e3:9.3f} ms  B {tb * 1e3:9.3f} ms  "
            f"B/A median {q50:.3f} (quartiles {q25:.3f}-{q75:.3f}, {len(rs)} rounds)"
        )


if __name__ == "__main__":
    main()
