"""The chart: throughput against thread count, one panel per contended
scenario, then the lock scenarios' fairness and worst wait. Needs matplotlib
(the bench extra); nothing else in gosync does.

A colour means one contender's family in every panel: gosync is always the
same colour, the standard library another, and each other library its own.
In the fairness and wait panels the line style tells the scenario. One
legend, below the panels, explains both, so that no legend covers a point.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Tuple

from .report import summarize
from .run import Results

# matplotlib's default cycle, fixed here so that a family keeps its colour
# whichever contenders a run has: gosync blue, the standard library orange.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
GOSYNC, STDLIB = "gosync", "standard library"
# The lock scenarios' cases (contended_mutex_<case>), drawn in the fairness
# and wait panels: line style, and the legend's words.
CASES: Dict[str, Tuple[str, str]] = {
    "empty": (":", "with m: pass"),
    "counter": ("--", "with m: counter += 1"),
    "sleep": ("-", "with m: counter += 1; sleep(50 us)"),
}


def family(contender: str) -> str:
    """The legend entry a contender is drawn under: gosync.Mutex -> gosync,
    threading.Lock -> standard library, any other -> itself."""
    if contender.startswith("gosync."):
        return GOSYNC
    if contender.startswith("threading."):
        return STDLIB
    return contender


def colours(results: Results) -> Dict[str, str]:
    """family -> colour for every contender of the contended scenarios:
    gosync and the standard library first, the others in order of
    appearance."""
    order = [GOSYNC, STDLIB]
    for s in results["scenarios"]:
        if s["contended"]:
            order += [family(c) for c in s["contenders"] if family(c) not in order]
    return {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(order)}


def _threads_axis(ax: Any, ticks: List[int]) -> None:
    ax.set_xlabel("threads")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])


def _lock_panel(
    ax: Any,
    locks: List[Dict[str, Any]],
    metric: Literal["fairness", "max_wait_us"],
    scale: float,
    colour: Dict[str, str],
) -> None:
    """One line per lock scenario and contender: metric against threads > 1,
    coloured by contender, styled by scenario."""
    for s in locks:
        case = s["name"].rsplit("_", 1)[1]  # contended_mutex_sleep -> sleep
        style = CASES.get(case, ("-.", case))[0]
        for name in s["contenders"]:
            points = [(r["threads"], summarize(r["samples"][name])[metric]) for r in s["runs"] if r["threads"] > 1]
            if points:
                xs, ys = zip(*points)
                ax.plot(
                    xs, [y * scale for y in ys], linestyle=style, marker="o", color=colour[family(name)],
                    label=f"{name} ({case})",
                )  # fmt: skip


def figure(results: Results) -> Any:
    """The chart of results' contended scenarios, as a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and none is assumed
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    contended = [s for s in results["scenarios"] if s["contended"]]
    locks = [s for s in contended if any(x["shares"] for r in s["runs"] for v in r["samples"].values() for x in v)]
    more = [t for t in results["threads"] if t > 1]
    lock_panels = bool(locks and more)
    panels = len(contended) + 2 * lock_panels
    cols = min(3, max(1, panels))
    rows = max(1, -(-panels // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.3 * rows + 1.0), squeeze=False)
    flat = [ax for row in axes for ax in row]
    colour = colours(results)
    for ax, s in zip(flat, contended):
        for name in s["contenders"]:
            runs = [r for r in s["runs"] if name in r["samples"]]
            if runs:
                ys = [1e3 / summarize(r["samples"][name])["ns_per_op"] for r in runs]
                ax.plot([r["threads"] for r in runs], ys, marker="o", color=colour[family(name)], label=name)
        ax.set_title(s["title"].replace("`", ""), fontsize=10)
        ax.set_ylabel("million ops/s")
        ax.set_ylim(bottom=0)
        _threads_axis(ax, results["threads"])
    if lock_panels:
        fair, worst = flat[len(contended)], flat[len(contended) + 1]
        _lock_panel(fair, locks, "fairness", 1, colour)
        fair.set_title("Mutex fairness: least / most served thread", fontsize=10)
        fair.set_ylim(0, 1.05)
        _threads_axis(fair, more)
        _lock_panel(worst, locks, "max_wait_us", 1e-3, colour)
        worst.set_title("Mutex: longest wait to acquire", fontsize=10)
        worst.set_ylabel("ms (log scale)")
        worst.set_yscale("log")
        _threads_axis(worst, more)
    for ax in flat[panels:]:
        ax.set_visible(False)
    # One legend for the whole figure, below the panels: the colours, then
    # (for the lock panels) the line styles.
    drawn = {family(c) for s in contended for c in s["contenders"] if any(c in r["samples"] for r in s["runs"])}
    members: Dict[str, List[str]] = {}
    for s in contended:
        for c in s["contenders"]:
            if family(c) in drawn and c not in members.setdefault(family(c), []):
                members[family(c)].append(c)
    handles = []
    for f, c in colour.items():
        if f in drawn:
            names = ", ".join(m.split(".", 1)[-1] if f in (GOSYNC, STDLIB) else m for m in members[f])
            label = f"{f} ({names})" if f in (GOSYNC, STDLIB) else f
            handles.append(Line2D([], [], color=c, marker="o", linewidth=2, label=label))
    if lock_panels:
        cases = [s["name"].rsplit("_", 1)[1] for s in locks]
        for case in cases:
            style, words = CASES.get(case, ("-.", case))
            label = f"Mutex panels: {words}"
            handles.append(Line2D([], [], color="black", linestyle=style, linewidth=1.5, label=label))
    ncol = min(3, max(1, len(handles)))
    legend_rows = -(-len(handles) // ncol)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=10, frameon=False)
    m = results["machine"]
    title = f"gosync vs the alternatives, {m['python']}, {m['usable_cpus']} CPUs, {results['date'][:10]}"
    fig.suptitle(title, fontsize=11)
    height = fig.get_figheight()
    fig.tight_layout(rect=(0, min(0.4, (0.2 * legend_rows + 0.15) / height), 1, 1))
    return fig


def plot(results: Results, path: str) -> None:
    """Writes the chart of results' contended scenarios to path as PNG."""
    import matplotlib.pyplot as plt

    fig = figure(results)
    fig.savefig(path, dpi=80)
    plt.close(fig)
