"""Rendering results: the table (text or markdown) and the target checks.

Everything here reads the results dict of run.run, whether it was just
measured or loaded back from --json.
"""

from __future__ import annotations

import statistics
import textwrap
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, TypedDict

from . import distributed
from .run import Results
from .scenario import Sample, Target


class Summary(TypedDict):
    """What summarize makes of one contender's samples. The fairness and
    the waits are None where the samples have none (one thread, or not a
    lock scenario)."""

    ns_per_op: float
    spread: float
    fairness: Optional[float]
    p50_wait_us: Optional[float]
    p99_wait_us: Optional[float]
    max_wait_us: Optional[float]


Row = Tuple[str, ...]

SINGLE_HEADER: Row = ("operation", "contender", "ns/op", "spread", "vs stdlib")
CONTENDED_HEADER: Row = (
    "operation",
    "threads",
    "contender",
    "ns/op",
    "spread",
    "vs stdlib",
    "fairness",
    "p50 wait us",
    "p99 wait us",
    "max wait us",
)
# The text layout, for a terminal: the operation (and threads) heads a block
# of rows, so that the tables fit WIDTH columns.
TEXT_SINGLE_HEADER: Row = ("contender", "ns/op", "spread", "vs stdlib")
TEXT_CONTENDED_HEADER: Row = (
    "contender", "ns/op", "spread", "vs stdlib", "fairness", "p50 us", "p99 us", "max us"
)  # fmt: skip
WIDTH = 79  # within an 80-column terminal, which would wrap a full line early
# Numeric columns.
RIGHT_ALIGNED = {
    "threads", "ns/op", "spread", "vs stdlib", "fairness", "p50 wait us", "p99 wait us", "max wait us",
    "p50 us", "p99 us", "max us",
}  # fmt: skip
# What runs saved before the equal-time lock scenarios timed: they did not
# record it.
OLD_WAIT_SAMPLE_EVERY = 8


def legend(results: Results) -> str:
    """The legend under the tables: what each column is, and how long the
    lock scenarios' samples ran where they were timed."""
    every = results.get("wait_sample_every", OLD_WAIT_SAMPLE_EVERY)
    text = (
        "ns/op: median over the rounds of wall time per operation (under contention,\n"
        "inverse throughput); spread: (max - min) / median over the rounds;\n"
        "vs stdlib: ns/op over the standard library's (lower is better);\n"
        "fairness: median over the rounds of the least-served thread's share of\n"
        "the acquisitions / the most-served one's (1 is fair, 0 is a thread shut\n"
        "out); p50, p99 and max wait, in us: of one acquisition in "
        f"{every}, from all\nrounds."
    )
    timed = sorted({s["sample_seconds"] for s in results["scenarios"] if s.get("sample_seconds")})
    if timed:
        each = " or ".join(f"{x:g} s" for x in timed)
        text += (
            "\nThe rows with a fairness ran every contender for the same wall time,\n"
            f"{each} a sample; the others, a fixed count of operations."
        )
    return text


def summarize(samples: Sequence[Dict[str, Any]]) -> Summary:
    """The median ns/op, spread, fairness and wait percentiles of samples."""
    parsed = [Sample(**s) for s in samples]
    ns = [s.ns_per_op for s in parsed]
    median = statistics.median(ns)
    fair = [f for f in (s.fairness for s in parsed) if f is not None]
    waits = sorted(w for s in parsed for w in s.waits_ns)
    return {
        "ns_per_op": median,
        "spread": (max(ns) - min(ns)) / median,
        "fairness": statistics.median(fair) if fair else None,
        "p50_wait_us": waits[(len(waits) - 1) // 2] / 1e3 if waits else None,
        "p99_wait_us": waits[(len(waits) - 1) * 99 // 100] / 1e3 if waits else None,
        "max_wait_us": waits[-1] / 1e3 if waits else None,
    }


def _num(x: Optional[float], fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def rows(results: Results, contended: bool) -> Iterator[Row]:
    """Table rows for the single-thread or the contended scenarios."""
    for s in results["scenarios"]:
        if s["contended"] != contended:
            continue
        for run in s["runs"]:
            sums = {name: summarize(v) for name, v in run["samples"].items()}
            base = sums.get(s["baseline"])
            first = True
            for name in s["contenders"]:
                if name not in sums:
                    continue
                m = sums[name]
                ratio = f"{m['ns_per_op'] / base['ns_per_op']:.2f}x" if base else "-"
                lead: Row = (s["title"] if first else "",)
                if contended:
                    lead += (str(run["threads"]) if first else "",)
                cells: Row = lead + (name, f"{m['ns_per_op']:.1f}", f"{m['spread']:.0%}", ratio)
                if contended:
                    cells += (
                        _num(m["fairness"], ".2f"),
                        _num(m["p50_wait_us"], ".0f"),
                        _num(m["p99_wait_us"], ".0f"),
                        _num(m["max_wait_us"], ".0f"),
                    )
                first = False
                yield cells


def target_rows(results: Results) -> Iterator[Tuple[str, str, str, Optional[bool]]]:
    """(what, target, measured, met) for every target; met is None when the
    target could not be checked, and measured then says why."""
    for s in results["scenarios"]:
        gosync_name = s["contenders"][0]
        for d in s["targets"]:
            t = Target(**d)
            what = f"{s['name']}: {gosync_name} vs {t.against}"
            if s["contended"]:
                what += f", {t.threads} threads"
            run = next((r for r in s["runs"] if r["threads"] == t.threads), None)
            if t.against in s["missing"]:
                yield what, t.text(), f"not run: {s['missing'][t.against]} is not installed", None
            elif run is None:
                yield what, t.text(), f"not run: no {t.threads}-thread run", None
            else:
                mine = summarize(run["samples"][gosync_name])["ns_per_op"]
                other = summarize(run["samples"][t.against])["ns_per_op"]
                ratio = t.ratio(mine, other)
                yield what, t.text(), f"{ratio:.2f}x", t.met(ratio)


def all_target_rows(results: Results) -> List[Tuple[str, str, str, Optional[bool]]]:
    """target_rows, then the distributed measures' targets, if any ran or
    were skipped."""
    out = list(target_rows(results))
    if "distributed" in results:
        out += distributed.target_rows(results["distributed"])
    return out


def missed(results: Results) -> int:
    """How many targets were checked and missed."""
    return sum(met is False for *_, met in all_target_rows(results))


def _wrap(line: str, indent: str = "  ") -> List[str]:
    """line, wrapped to WIDTH columns at spaces; later lines are indented."""
    if len(line) <= WIDTH:
        return [line]
    return textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def _text_blocks(header: Row, body: Sequence[Row], lead: int) -> List[str]:
    """The narrow layout of rows() for a terminal: the first `lead` cells of
    a row (the operation, and the threads) head a block, once; the other
    cells are columns under one header."""
    blocks: List[Tuple[str, List[Row]]] = []
    for r in body:
        if r[0]:
            title = r[0] if lead == 1 else f"{r[0]}, {r[1]} thread{'s' if r[1] != '1' else ''}"
            blocks.append((title, []))
        blocks[-1][1].append(r[lead:])
    cells = [header, *(r for _, rs in blocks for r in rs)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Row) -> str:
        return "  " + "  ".join(c.rjust(w) if h in RIGHT_ALIGNED else c.ljust(w) for c, w, h in zip(r, widths, header))

    out = [line(header).rstrip(), "  " + "-" * (len(line(header).rstrip()) - 2)]
    for title, rs in blocks:
        out += _wrap(title, "    ")
        out += [line(r).rstrip() for r in rs]
    return out


def _text_targets(targets: Sequence[Tuple[str, str, str, str]]) -> List[str]:
    """The targets for a terminal: the result and what, then the wanted and
    the measured ratio, indented below."""
    out = []
    for what, wanted, measured, result in targets:
        out += _wrap(f"{result:<4}  {what}", "      ")
        found = measured if measured.startswith("not run") else f"measured {measured}"
        out += _wrap(f"      wanted {wanted}; {found}", "      ")
    return out


def _markdown_table(header: Row, body: Sequence[Row]) -> List[str]:
    out = ["| " + " | ".join(header) + " |"]
    out.append("|" + "|".join("---:" if h in RIGHT_ALIGNED else "---" for h in header) + "|")
    out += ["| " + " | ".join(r) + " |" for r in body]
    return out


def _heading(results: Results) -> List[str]:
    m = results["machine"]
    return [
        f"$ {results['command']}",
        f"{results['date']}; {m['usable_cpus']} of {m['cpus']} CPUs usable ({m['cpu_model']}); "
        f"{m['python']}, GIL {'on' if m['gil'] else 'off'}; gosync {m['gosync']}; "
        f"{results['rounds']} rounds, interleaved",
    ]


def _notes(results: Results) -> List[str]:
    notes = []
    for s in results["scenarios"]:
        for name, module in s["missing"].items():
            notes.append(f"{s['name']}: {name} not measured: `pip install {module}` to include it")
    return notes


def render(results: Results, markdown: bool = False) -> str:
    """The whole report: heading, both tables, legend, notes and targets."""
    out = _heading(results)
    if markdown:
        out = [f"`{out[0][2:]}`", "", out[1]]
    single = list(rows(results, contended=False))
    contended = list(rows(results, contended=True))
    if single:
        table = _markdown_table(SINGLE_HEADER, single) if markdown else _text_blocks(TEXT_SINGLE_HEADER, single, 1)
        out += ["", "Single thread, uncontended:", "", *table]
    if contended:
        if markdown:
            table = _markdown_table(CONTENDED_HEADER, contended)
        else:
            table = _text_blocks(TEXT_CONTENDED_HEADER, contended, 2)
        out += ["", "Contended:", "", *table]
    if single or contended:
        out += ["", legend(results)]
    notes = _notes(results)
    if notes:
        out += ["", *notes]
    if "distributed" in results:
        lines = distributed.render_lines(results["distributed"])
        out += ["", *(["```", *lines, "```"] if markdown else lines)]
    targets = [(w, t, m, "-" if ok is None else "PASS" if ok else "MISS") for w, t, m, ok in all_target_rows(results)]
    if targets:
        if markdown:
            table = _markdown_table(("target", "wanted", "measured", "result"), targets)
        else:
            table = _text_targets(targets)
        out += ["", "Targets:", "", *table]
        n = sum(row[3] == "MISS" for row in targets)
        out += ["", f"{n} target(s) missed" if n else "all targets checked were met"]
    if not markdown:
        out = [wrapped for line in out for wrapped in (_wrap(line) if "\n" not in line else line.split("\n"))]
    return "\n".join(out) + "\n"
