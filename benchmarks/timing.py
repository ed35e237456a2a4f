"""Timing: medians of repeated, interleaved runs after a warm-up.

The clock is the process's CPU time (``time.process_time``: user and system
time of all its threads), not wall-clock time: the benchmark machine is
shared, and CPU time leaves out the time another program holds the core.
Every library runs on one thread here, so on an idle machine the two agree
(checked for every library on the MLP and Rosenbrock gradients: within 3%);
the wall-clock median is recorded too.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def _sample(fn: Callable[[], Any], number: int) -> tuple[float, float]:
    """CPU and wall-clock seconds per call, over ``number`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - cpu) / number, (time.perf_counter() - wall) / number


def measure(
    fns: Mapping[str, Callable[[], Any]],
    repeats: int,
    min_sample: float = 0.05,
    keep_samples: bool = False,
) -> dict[str, dict[str, Any]]:
    """Time each of ``fns``: median CPU seconds per call, its minimum and quartiles.

    Each function first runs once untimed (warm-up: JIT compilation, caches),
    then enough calls are grouped into one sample to last ``min_sample``
    seconds (so the clock's resolution does not matter). The ``repeats``
    samples of all functions are taken in turns, so a burst of load from
    other processes hits every function alike and ratios stay fair. With
    ``keep_samples=True`` each function's CPU seconds per call, sample by sample
    (round by round), are kept as ``"samples"``: see :func:`paired_ratio`.
    """
    numbers = {}
    for name, fn in fns.items():
        fn()
        number = 1
        # Grows at least twofold per round; a function too fast to register at
        # all stops at a billion calls per sample.
        while (t := _sample(fn, number)[0]) * number < min_sample and number < 10**9:
            number *= max(2, min(10, int(min_sample / max(t * number, 1e-9))))
        numbers[name] = number
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()  # other functions' garbage is not this one's cost
            samples[name].append(_sample(fn, numbers[name]))
    out = {}
    for name, pairs in samples.items():
        cpu, wall = np.array(pairs).T
        out[name] = {
            "median": float(np.median(cpu)),
            "min": float(np.min(cpu)),
            "q25": float(np.percentile(cpu, 25)),
            "q75": float(np.percentile(cpu, 75)),
            "wall_median": float(np.median(wall)),
            "calls_per_sample": numbers[name],
        }
        if keep_samples:
            out[name]["samples"] = [float(t) for t in cpu]
    return out


def paired_ratio(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, float]:
    """Median and quartiles of ``a``'s time over ``b``'s, one ratio per round.

    ``a`` and ``b`` are two entries of one :func:`measure` call with
    ``keep_samples=True``: sample ``k`` of each was taken in round ``k``, one
    right after the other, so load from other programs that slows one round
    slows both, and their ratio keeps what a ratio of overall medians loses.
    """
    ratios = np.array(a["samples"]) / np.array(b["samples"])
    return {
        "median": float(np.median(ratios)),
        "q25": float(np.percentile(ratios, 25)),
        "q75": float(np.percentile(ratios, 75)),
        "rounds": len(ratios),
    }
