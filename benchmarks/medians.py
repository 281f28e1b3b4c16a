"""The benchmark figures of several runs: medians, with their ranges.

    for i in 1 2 3; do python -m gosync bench --json run$i.json; done
    python benchmarks/medians.py run1.json run2.json run3.json

One run's ratios move from run to run (the contended ones by a factor of
two), so the figures in docs/benchmarks.md and the README are the median
over runs of each run's figure, with the range over runs. Every figure of
one run is what `python -m gosync bench --from runN.json` prints for it.
The output is markdown: the single-thread table, the contended table and
the targets.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from gosync._bench.report import summarize
from gosync._bench.scenario import Target

Key = Tuple[str, int, str]  # scenario, threads, contender


def _load(paths: Sequence[str]) -> List[Dict[str, Any]]:
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def _figures(run: Dict[str, Any]) -> Dict[Key, Dict[str, Optional[float]]]:
    """(scenario, threads, contender) -> ns/op, ratio to the baseline,
    fairness, p50, p99 and max wait in us: one run's figures."""
    out: Dict[Key, Dict[str, Optional[float]]] = {}
    for s in run["scenarios"]:
        for r in s["runs"]:
            sums = {name: summarize(v) for name, v in r["samples"].items()}
            base = sums.get(s["baseline"])
            for name, m in sums.items():
                out[(s["name"], r["threads"], name)] = {
                    "ns_per_op": m["ns_per_op"],
                    "ratio": m["ns_per_op"] / base["ns_per_op"] if base else None,
                    "fairness": m["fairness"],
                    "p50_wait_us": m["p50_wait_us"],
                    "p99_wait_us": m["p99_wait_us"],
                    "max_wait_us": m["max_wait_us"],
                }
    return out


def _median(values: List[Optional[float]]) -> Optional[float]:
    xs = [v for v in values if v is not None]
    return statistics.median(xs) if xs else None


def _cell(values: List[Optional[float]], fmt: str, suffix: str = "") -> str:
    """The median, then the range over the runs in brackets."""
    xs = [v for v in values if v is not None]
    if not xs:
        return "-"
    med = format(statistics.median(xs), fmt) + suffix
    if len(xs) == 1:
        return med
    return f"{med} ({format(min(xs), fmt)}-{format(max(xs), fmt)})"


def render(runs: List[Dict[str, Any]]) -> str:
    figures = [_figures(r) for r in runs]
    first = runs[0]
    lines: List[str] = []
    m = first["machine"]
    lines.append(
        f"{len(runs)} runs; {m['usable_cpus']} of {m['cpus']} CPUs usable ({m['cpu_model']}); {m['python']}; "
        f"{first['rounds']} rounds each. Each cell: the median over the runs of that run's figure, and "
        "(in brackets) the lowest and highest run."
    )
    lines += ["", "Single thread, uncontended:", ""]
    lines += ["| operation | contender | ns/op | vs stdlib |", "|---|---|---:|---:|"]
    contended_rows = [
        "| operation | threads | contender | ns/op | vs stdlib | fairness | p50 wait us | p99 wait us | max wait us |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in first["scenarios"]:
        for r in s["runs"]:
            lead = True
            for name in s["contenders"]:
                key = (s["name"], r["threads"], name)
                got = [f[key] for f in figures if key in f]
                if not got:
                    continue
                title = s["title"] if lead else ""
                ns = _cell([g["ns_per_op"] for g in got], ".1f")
                ratio = "1.00x" if name == s["baseline"] else _cell([g["ratio"] for g in got], ".2f", "x")
                if s["contended"]:
                    threads = str(r["threads"]) if lead else ""
                    fair = _cell([g["fairness"] for g in got], ".2f")
                    p50 = _cell([g["p50_wait_us"] for g in got], ".0f")
                    p99 = _cell([g["p99_wait_us"] for g in got], ".0f")
                    worst = _cell([g["max_wait_us"] for g in got], ".0f")
                    cells = [title, threads, name, ns, ratio, fair, p50, p99, worst]
                    contended_rows.append("| " + " | ".join(cells) + " |")
                else:
                    lines.append(f"| {title} | {name} | {ns} | {ratio} |")
                lead = False
    lines += ["", "Contended:", ""] + contended_rows
    lines += ["", "Targets (each run's ratio as `--check` computes it):", ""]
    lines += ["| target | wanted | measured | met in |", "|---|---|---|---:|"]
    for s in first["scenarios"]:
        mine = s["contenders"][0]
        for d in s["targets"]:
            t = Target(**d)
            ratios = []
            for f in figures:
                a, b = f.get((s["name"], t.threads, mine)), f.get((s["name"], t.threads, t.against))
                if a and b and a["ns_per_op"] and b["ns_per_op"]:
                    ratios.append(t.ratio(a["ns_per_op"], b["ns_per_op"]))
            what = f"{s['name']}: {mine} vs {t.against}" + (f", {t.threads} threads" if s["contended"] else "")
            if not ratios:
                lines.append(f"| {what} | {t.text()} | not run | - |")
                continue
            met = sum(bool(t.met(x)) for x in ratios)
            lines.append(f"| {what} | {t.text()} | {_cell(list(ratios), '.2f', 'x')} | {met} of {len(ratios)} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/medians.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN.json", help="files written by python -m gosync bench --json")
    args = ap.parse_args(argv)
    print(render(_load(args.runs)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
