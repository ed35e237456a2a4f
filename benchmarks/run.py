"""Run the benchmarks and write a JSON results file and one plot per case.

``nox -s bench`` runs this with every peer installed; on its own::

    python -m benchmarks.run [--cases gradients crossover] [--repeats 15]
                             [--output benchmarks/results.json] [--with-builds]

Cases named on the command line replace their entries in an existing results
file; the others are kept. Every timing is the median of ``--repeats``
interleaved samples after a warm-up (see benchmarks/timing.py).
"""

from __future__ import annotations

import os

# One thread for every library (nox -s bench sets these too): before NumPy loads.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from . import cases, peers, plot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "gradients": lambda args: cases.gradients(args.repeats),
    "eager_reverse": lambda args: cases.eager_reverse(args.repeats),
    "scalar_graph": lambda args: cases.scalar_graph(args.repeats),
    "crossover": lambda args: cases.crossover(args.repeats),
    "numerical": lambda args: cases.numerical_methods(),
    "taylor": lambda args: cases.taylor(args.repeats),
    "jacobians": lambda args: cases.jacobians(args.repeats),
    "programs": lambda args: cases.programs(args.repeats),
    "builds": lambda args: builds(),
}


def builds() -> dict[str, Any]:
    """Wall time of ``nox -s docs`` (a clean, strict build) and ``nox -s tests``."""
    nox = [os.environ.get("BENCH_NOX_PYTHON", sys.executable), "-m", "nox"]
    # As a developer runs them: without this run's one-thread limits or virtualenv.
    env = {k: v for k, v in os.environ.items()
           if k not in (*peers.THREAD_VARIABLES, "VIRTUAL_ENV")}  # fmt: skip
    bin_dir = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir
    )
    out = {}
    for session in ("docs", "tests"):
        start = time.perf_counter()
        done = subprocess.run(
            [*nox, "-s", session], cwd=ROOT, env=env, capture_output=True
        )
        out[session] = {
            "seconds": time.perf_counter() - start,
            "exit_code": done.returncode,
        }
    return out


def machine() -> dict[str, Any]:
    """What ran the benchmarks: CPU, cores, versions, thread limits."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for dist in ("autodiff_ref", "autograd", "jax", "jaxlib", "torch", "micrograd",
                 "numdifftools"):  # fmt: skip
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "versions": versions,
        "threads": peers.thread_settings(),
        "git": commit or None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", nargs="+", choices=list(CASES), help="default: all but builds"
    )
    parser.add_argument(
        "--repeats", type=int, default=15, help="timed samples per measurement"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results.json"
    )
    parser.add_argument("--plots", type=Path, default=ROOT / "benchmarks" / "plots")
    parser.add_argument(
        "--with-builds", action="store_true", help="also time nox -s docs/tests"
    )
    parser.add_argument(
        "--plot-only",
        action="store_true",
        help="measure nothing: redraw the results file",
    )
    args = parser.parse_args(argv)
    names = args.cases or [name for name in CASES if name != "builds"]
    if args.plot_only:
        names = []
    if args.with_builds and "builds" not in names:
        names.append("builds")

    results: dict[str, Any] = {"cases": {}}
    if args.output.is_file():
        results = json.loads(args.output.read_text())
    if names:
        results["machine"] = machine()
    for name in names:
        print(f"benchmark {name} ...", flush=True)
        start, load = time.perf_counter(), os.getloadavg()[0]
        record = CASES[name](args)
        record["run"] = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            # Cases can be rerun one at a time (--cases), so each keeps its own commit.
            "git": results["machine"]["git"],
            "repeats": args.repeats,
            "seconds": round(time.perf_counter() - start, 1),
            # Other processes' load while it ran (2 cores): numbers are noisier above ~1.
            "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        }
        results["cases"][name] = record
        args.output.write_text(json.dumps(results, indent=1) + "\n")  # after each case
        print(f"  done in {record['run']['seconds']} s", flush=True)
    print(plot.summary(results))
    for path in plot.save_all(results, args.plots):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
