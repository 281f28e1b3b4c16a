"""The chart: throughput against thread count, one panel per contended
scenario, then the lock scenarios' fairness and worst wait. Needs matplotlib
(the bench extra); nothing else in gosync does."""

from __future__ import annotations

from typing import Any, Dict, List, Literal

from .report import summarize
from .run import Results


def _threads_axis(ax: Any, ticks: List[int]) -> None:
    ax.set_xlabel("threads")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])


def _lock_panel(
    ax: Any, locks: List[Dict[str, Any]], metric: Literal["fairness", "max_wait_us"], title: str, scale: float
) -> None:
    """One line per lock scenario and contender: metric against threads > 1."""
    for s in locks:
        case = s["name"].rsplit("_", 1)[1]  # contended_mutex_sleep -> sleep
        for name in s["contenders"]:
            points = [(r["threads"], summarize(r["samples"][name])[metric]) for r in s["runs"] if r["threads"] > 1]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y * scale for y in ys], marker="o", label=f"{name} ({case})")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)


def plot(results: Results, path: str) -> None:
    """Writes the chart of results' contended scenarios to path as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and none is assumed
    import matplotlib.pyplot as plt

    contended = [s for s in results["scenarios"] if s["contended"]]
    locks = [s for s in contended if any(x["shares"] for r in s["runs"] for v in r["samples"].values() for x in v)]
    panels = len(contended) + 2 * bool(locks)
    cols = min(3, max(1, panels))
    rows = max(1, -(-panels // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, s in zip(flat, contended):
        for name in s["contenders"]:
            runs = [r for r in s["runs"] if name in r["samples"]]
            if runs:
                ys = [1e3 / summarize(r["samples"][name])["ns_per_op"] for r in runs]
                ax.plot([r["threads"] for r in runs], ys, marker="o", label=name)
        ax.set_title(s["title"].replace("`", ""), fontsize=9)
        ax.set_ylabel("million ops/s")
        ax.set_ylim(bottom=0)
        _threads_axis(ax, results["threads"])
        ax.legend(fontsize=7)
    more = [t for t in results["threads"] if t > 1]
    if locks and more:
        fair, worst = flat[len(contended)], flat[len(contended) + 1]
        _lock_panel(fair, locks, "fairness", "fairness: least / most served thread", 1)
        fair.set_ylim(0, 1.05)
        _threads_axis(fair, more)
        _lock_panel(worst, locks, "max_wait_us", "longest wait to acquire", 1e-3)
        worst.set_ylabel("ms")
        worst.set_yscale("log")
        _threads_axis(worst, more)
    for ax in flat[len(contended) + (2 if locks and more else 0) :]:
        ax.set_visible(False)
    m = results["machine"]
    title = f"gosync vs the alternatives, {m['python']}, {m['usable_cpus']} CPUs, {results['date'][:10]}"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
