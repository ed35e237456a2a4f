"""Tables and figures from a results file: used by run.py and by the docs page.

Nothing here measures anything, so the docs build can re-draw everything
from the committed ``benchmarks/results.json`` in a second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results.json"
# AD's error is exactly 0; a log axis shows it at this floor, labelled as such.
ZERO_FLOOR = 1e-18

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


def load(path: Path = RESULTS) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _ms(stats: dict[str, float]) -> str:
    return f"{1e3 * stats['median']:.3g}"


def tables(results: dict[str, Any], only: str | None = None) -> list[Table]:
    """Every case (or only the case called ``only``) as tables of strings."""
    out: list[Table] = []
    cases = {k: v for k, v in results["cases"].items() if only in (None, k)}
    if "gradients" in cases:
        g = cases["gradients"]
        for p in g["problems"].values():
            rows = [
                [lib, _ms(r["f"]), _ms(r["grad"]), f"{r['grad_over_f']:.2f}",
                 f"{r['ours_grad_over_this_grad']:.2f}"]
                for lib, r in p["libraries"].items()
            ]  # fmt: skip
            rows += [[lib, "skipped", why, "", ""] for lib, why in g["skipped"].items()]
            out.append((
                f"Gradient of {p['description']}",
                ["library", "f (ms)", "grad f (ms)", "grad / f", "autodiff_ref grad / this grad"],
                rows,
            ))  # fmt: skip
    if "eager_reverse" in cases:
        e = cases["eager_reverse"]
        rows = [
            [p["description"], p["peer"], _ms(p["times"]["autodiff_ref"]),
             _ms(p["times"][p["peer"]]), f"{p['ours_over_peer']['median']:.2f}",
             f"{p['ours_over_peer']['q25']:.2f}-{p['ours_over_peer']['q75']:.2f}",
             "met" if p["target_met"] else "NOT met"]
            for p in e["problems"].values()
        ]  # fmt: skip
        rows += [
            [name, "skipped", why, "", "", "", ""] for name, why in e["skipped"].items()
        ]
        out.append((
            f"Eager reverse mode, head to head (target: ratio <= {e['target']:.1f})",
            ["gradient of", "peer", "autodiff_ref (ms)", "peer (ms)",
             "autodiff_ref / peer", "quartiles", "target"],
            rows,
        ))  # fmt: skip
    if "jacobians" in cases:
        j = cases["jacobians"]
        rows = [
            [p["description"], name, _ms(p["times"][name]), f"{r['median']:.2f}",
             f"{r['q25']:.2f}-{r['q75']:.2f}"]
            for p in j["problems"].values()
            for name, r in p["ours_over"].items()
        ]  # fmt: skip
        rows += [[what, "skipped", why, "", ""] for what, why in j["skipped"].items()]
        out.append((
            "Jacobians and per-example gradients through vmap: autodiff_ref against "
            "a Python loop of the unbatched pass, JAX and autograd",
            ["problem", "against", "its time (ms)", "autodiff_ref / it", "quartiles"],
            rows,
        ))  # fmt: skip
    if "scalar_graph" in cases:
        s = cases["scalar_graph"]
        rows = [[lib, f"{s['n_ops']:,}", _ms(t)] for lib, t in s["times"].items()]
        title = "Scalar graph: build + backward"
        if "micrograd_over_ours" in s:
            title += f" (micrograd / autodiff_ref = {s['micrograd_over_ours']:.2f})"
        out.append((title, ["library", "operations", "time (ms)"], rows))
        rows = [
            [m["library"], f"{m['n_ops']:,}", f"{m['seconds']:.3g}", f"{m['peak_rss_mb']:.0f}",
             f"{m['peak_rss_mb'] - m['baseline_rss_mb']:.0f}"]
            for m in s["memory"]
        ]  # fmt: skip
        header = [
            "library",
            "operations",
            "time (s)",
            "peak RSS (MB)",
            "for the graph (MB)",
        ]
        out.append(("Scalar graph: one run in a fresh process", header, rows))
    if "crossover" in cases:
        c = cases["crossover"]
        cell = {(x["n"], x["m"]): x for x in c["cells"]}
        rows = [
            [f"n = {n}"] + [f"{_ms(cell[n, m]['jacfwd'])} / {_ms(cell[n, m]['jacrev'])}"
                            for m in c["sizes"]]
            for n in c["sizes"]
        ]  # fmt: skip
        out.append((
            f"jacfwd / jacrev (ms) on {c['function']}",
            ["", *(f"m = {m}" for m in c["sizes"])],
            rows,
        ))  # fmt: skip
    if "numerical" in cases:
        rows = []
        for method, group in _by_method(cases["numerical"]["rows"]).items():
            errors = [r["relative_error"] for r in group]
            rows.append([
                method, f"{np.median(errors):.1e}", f"{max(errors):.1e}",
                f"{np.median([r['calls'] for r in group]):g}",
                f"{np.median([r['points'] for r in group]):g}",
            ])  # fmt: skip
        out.append((
            "Numerical derivatives of exp, sin, tanh, log, 1/x at x = "
            + ", ".join(f"{x:g}" for x in cases["numerical"]["points"]),
            ["method", "median rel. error", "max rel. error", "calls of f", "points"],
            rows,
        ))  # fmt: skip
    if "programs" in cases:
        for p in cases["programs"]["problems"].values():
            rows = [[name, _ms(t)] for name, t in p["times"].items()]
            rows += [[f"ratio {k}", f"{v:.2f}"] for k, v in p["ratios"].items()]
            rows.append(
                ["tracing jit(grad f) (ms)", f"{1e3 * p['tracing_seconds']:.3g}"]
            )
            rows += [[f"target {k}", "met" if ok else "NOT met"]
                     for k, ok in p.get("targets_met", {}).items()]  # fmt: skip
            out.append((f"Programs: {p['description']}", ["call", "ms / ratio"], rows))
    if "builds" in cases:
        b = cases["builds"]
        rows = [
            [f"nox -s {s}", f"{r['seconds']:.0f}", str(r["exit_code"])]
            for s, r in b.items() if s != "run"
        ]  # fmt: skip
        out.append(("Build and test times", ["command", "seconds", "exit code"], rows))
    if "taylor" in cases:
        out.append(_taylor_table(cases["taylor"]))
    return out


def _taylor_table(case: dict[str, Any]) -> Table:
    rows = [
        [str(r["order"]), _ms(r["jet"]) if "jet" in r else "",
         _ms(r["nested duals"]) if "nested duals" in r else ""]
        for r in case["rows"]
    ]  # fmt: skip
    title = (f"Taylor mode: {case['function']} (jet {case['speedup']:.0f}x faster than "
             f"nested duals at order {case['speedup_order']})")  # fmt: skip
    return title, ["order", "jet (ms)", "nested duals (ms)"], rows


def _by_method(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["method"], []).append(r)
    return groups


def summary(results: dict[str, Any]) -> str:
    """All tables as plain text."""
    blocks = []
    for title, header, rows in tables(results):
        widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
        lines = [title] + [
            "  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# -- figures ----------------------------------------------------------------------
def fig_gradients(case: dict[str, Any], show_target: bool = True) -> Any:
    import matplotlib.pyplot as plt

    problems = case["problems"]
    libs = list(next(iter(problems.values()))["libraries"])
    # Stacked, at most 7 inches wide: the column shows it at full size, so 12-point
    # labels read as large as the body text.
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 7.5), layout="constrained")
    width = 0.8 / len(libs)
    for k, lib in enumerate(libs):
        xs = np.arange(len(problems)) + (k - (len(libs) - 1) / 2) * width
        ratios = [p["libraries"][lib]["grad_over_f"] for p in problems.values()]
        times = [1e3 * p["libraries"][lib]["grad"]["median"] for p in problems.values()]
        axes[0].bar(xs, ratios, width, label=lib)
        axes[1].bar(xs, times, width, label=lib)
    if show_target:  # the project's own goal; the docs' neutral report leaves it out
        axes[0].axhline(case["target"], color="k", ls="--", lw=1)
        axes[0].text(
            -0.45, case["target"] * 1.1, f"target {case['target']}", fontsize=12
        )
    axes[0].set(
        ylabel="time(grad f) / time(f)", title="Cost of a gradient, relative to f"
    )
    axes[1].set(ylabel="time(grad f) (ms)", title="Time of a gradient")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xticks(range(len(problems)), list(problems))
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


def fig_scalar_graph(case: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(6.4, 7.5), layout="constrained")
    libs = list(case["times"])
    axes[0].bar(
        libs, [case["times"][lib]["median"] for lib in libs], color=["C0", "C1"]
    )
    axes[0].set(
        ylabel="seconds", title=f"Build + backward, {case['n_ops']:,} scalar ops"
    )
    labels = [f"{m['library']}\n{m['n_ops']:,} ops" for m in case["memory"]]
    axes[1].bar(
        labels, [m["peak_rss_mb"] for m in case["memory"]], color="C2", label="peak"
    )
    axes[1].bar(labels, [m["baseline_rss_mb"] for m in case["memory"]], color="C7",
                label="before the graph")  # fmt: skip
    axes[1].set(ylabel="resident memory (MB)", title="Peak memory of one process")
    axes[1].legend(loc="upper left")
    return fig


def fig_crossover(case: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    sizes = case["sizes"]
    cell = {(c["n"], c["m"]): c for c in case["cells"]}
    ratio = np.array([[cell[n, m]["fwd_over_rev"] for n in sizes] for m in sizes])
    fig, axes = plt.subplot_mosaic(
        [["ratio", "ratio"], ["fwd", "rev"]],
        figsize=(6.8, 10),
        height_ratios=[1.6, 1],
        layout="constrained",
    )
    lim = np.abs(np.log10(ratio)).max()
    image = axes["ratio"].imshow(
        np.log10(ratio), origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim
    )
    for (i, j), r in np.ndenumerate(ratio):
        color = (
            "white" if abs(np.log10(r)) > lim / 2 else "black"
        )  # readable on dark cells
        axes["ratio"].text(
            j, i, f"{r:.2g}", ha="center", va="center", fontsize=12, color=color
        )
    ticks = range(len(sizes))
    axes["ratio"].set(xticks=ticks, xticklabels=sizes, yticks=ticks, yticklabels=sizes,
                      xlabel="n (inputs)", ylabel="m (outputs)",
                      title="time(jacfwd) / time(jacrev)")  # fmt: skip
    label = "log10 of the ratio\n(blue: forward mode is faster, red: reverse)"
    fig.colorbar(image, ax=axes["ratio"], location="bottom", label=label)
    for m in sizes:
        times = [cell[n, m]["jacfwd"]["median"] for n in sizes]
        axes["fwd"].loglog(sizes, times, "o-", label=f"m={m}")
    for n in sizes:
        times = [cell[n, m]["jacrev"]["median"] for m in sizes]
        axes["rev"].loglog(sizes, times, "o-", label=f"n={n}")
    axes["fwd"].set(xlabel="n (inputs)", ylabel="seconds", title="jacfwd: grows with n")
    axes["rev"].set(
        xlabel="m (outputs)", ylabel="seconds", title="jacrev: grows with m"
    )
    for name in ("fwd", "rev"):
        axes[name].legend(handlelength=1, borderaxespad=0.3)
    return fig


def fig_numerical(case: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    groups = _by_method(case["rows"])
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 9), sharex=True, layout="constrained")
    rng = np.random.default_rng(0)
    for k, rows in enumerate(groups.values()):
        errors = np.maximum([r["relative_error"] for r in rows], ZERO_FLOOR)
        axes[0].scatter(
            k + rng.uniform(-0.15, 0.15, len(errors)), errors, s=12, alpha=0.7
        )
        axes[1].bar(k, np.median([r["calls"] for r in rows]), color=f"C{k}")
    labels = [
        m.replace("autodiff_ref.numerical ", "").replace(" (", "\n(") for m in groups
    ]
    axes[0].set(yscale="log", ylabel="relative error\n(exact 0 drawn at 1e-18)",
                title="Error of f'(x) (functions and points)")  # fmt: skip
    axes[1].set(ylabel="calls of f per derivative", title="Cost of f'(x)")
    axes[1].set_xticks(
        range(len(groups)), labels, rotation=40, ha="right", rotation_mode="anchor"
    )
    return fig


def fig_taylor(case: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    labels = {
        "nested duals": f"nested duals (x{case['nested_growth_per_order']:.1f} per order)",
        "jet": f"jet (time ~ n^{case['jet_exponent']:.1f} from n = 10)",
    }
    for k, (method, label) in enumerate(labels.items()):
        pts = [
            (r["order"], 1e3 * r[method]["median"]) for r in case["rows"] if method in r
        ]
        orders, ms = zip(*pts, strict=True)
        ax.loglog(orders, ms, "o-", color=f"C{k}", label=label)
    ax.set(xlabel="order n of the derivative", ylabel="time per derivative (ms)",
           title=case["function"])  # fmt: skip
    ax.legend()
    return fig


FIGURES = {
    "gradients": fig_gradients,
    "scalar_graph": fig_scalar_graph,
    "crossover": fig_crossover,
    "numerical": fig_numerical,
    "taylor": fig_taylor,
}


def save_all(results: dict[str, Any], folder: Path) -> list[Path]:
    """One PNG per case in ``folder``; returns their paths."""
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in FIGURES.items():
        if name in results["cases"]:
            fig = draw(results["cases"][name])
            path = folder / f"{name}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            paths.append(path)
    return paths
