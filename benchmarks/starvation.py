"""What Go's starvation mode buys under the GIL: the worst wait for the lock.

    python benchmarks/starvation.py [--rounds 5] [--seconds 0.5] [--threads 1,2,4,8] [--variants] [--json FILE]
    python benchmarks/starvation.py --from run1.json run2.json run3.json

gosync.Mutex has Go's starvation mode: a waiter that has waited over 1 ms
makes Unlock hand the mutex straight to the front waiter, so a thread that
keeps coming back for the lock cannot shut the others out for long.
threading.Lock has no such mode. This measures what that bounds here, where
every thread also needs the GIL to run: the longest and the 99th-percentile
wait to acquire, of gosync.Mutex and threading.Lock side by side in one
process, at each thread count, for two critical sections:

  counter  `with m: counter += 1`: the holder keeps the GIL throughout,
           unlocks and comes straight back;
  sleep    `with m: counter += 1; sleep(50 us)`: the holder blocks (and lets
           the GIL go) while it holds the lock, and comes straight back:
           the case starvation mode is for.

Every contender runs for the same wall time, --seconds a round, with the
loop of `python -m gosync bench` (gosync/_bench/contended.py), except that
here every acquisition is timed, not one in 32, so the worst wait is the
worst of all. The rounds interleave the contenders (A B, B A, ...), and each
cell is the median over the rounds of that round's figure, with the lowest
and highest round in brackets; --from several saved runs pools their
rounds, so each cell is then the median over all of them. One thread is the floor: nobody else wants
the lock, so its worst wait is what the machine (the OS scheduler, other
processes, the interpreter) adds on its own.

Variants (--variants): what else might bound the worst wait, run side by
side with the two above, each restored after its run, in the two sections
above and a third:

  work     `with m: counter += 1; sleep(50 us)`, then 200 us of Python
           outside the lock: in the two sections above the unlocker comes
           straight back and, after a starvation handoff, must queue and
           so lets the GIL go a few bytecodes later; here it runs on with
           the GIL while the new owner waits for it.

The variants:

  switch 1 ms, 0.5 ms  both locks with sys.setswitchinterval() lowered
                       from 5 ms, so that a thread waiting for the GIL
                       forces a switch sooner;
  GIL handed           gosync.Mutex where an Unlock that hands the mutex
                       to a starving waiter also lets the GIL go at once
                       (then waits for the receiver to take over, yields,
                       or sleeps 20 us before taking it back), so that the
                       new owner does not wait for the unlocker's switch
                       interval. This needs a private switch in the C core
                       and the binding that is not in the tree: apply
                       benchmarks/gil_handoff.patch and rebuild; without it
                       these rows are left out (a note on stderr says so).
                       CPython has no call that gives the GIL to a given
                       thread, and the request that forces a switch
                       (gil_drop_request) is set only by a thread already
                       waiting for the GIL, which is not in the C API: the
                       unlocker can only let the GIL go and stay off it.

gosync.Mutex cannot be run with starvation mode off: the 1 ms threshold is a
constant of the shipped C core (csrc/mutex.c) with no switch, test hook or
debug flag, so the comparison is with threading.Lock only.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import threading
from time import perf_counter
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import gosync
from gosync._bench.contended import HOLD_S, _lock_contention
from gosync._bench.run import machine
from gosync._bench.scenario import Lock, Sample, TimedRunner

SECTIONS: Dict[str, Tuple[str, bool, float]] = {
    "counter": ("`with m: counter += 1`", True, 0.0),
    "sleep": ("`with m: counter += 1; sleep(50 us)`", True, HOLD_S),
}
# --variants adds a section where the thread runs Python between its Unlock
# and its next Lock, so that an unlocker does not give up the GIL a few
# bytecodes after a handoff (see "Variants").
OUTSIDE_S = 200e-6
WORK_SECTIONS: Dict[str, Tuple[str, bool, float]] = {
    "work": ("`with m: counter += 1; sleep(50 us)`, then 200 us of Python", True, HOLD_S),
}


class Contender(NamedTuple):
    """A lock and the setting it runs under: the GIL's switch interval in
    seconds (None: the interpreter's, 5 ms) and gosync's experimental GIL
    handoff (None: off; else the mode of gosync._gosync._set_gil_handoff)."""

    name: str
    make: Callable[[], Lock]
    switch_interval: Optional[float] = None
    gil_handoff: Optional[int] = None


CONTENDERS: Tuple[Contender, ...] = (
    Contender("gosync.Mutex", gosync.Mutex),
    Contender("threading.Lock", threading.Lock),
)
# --variants: what else might bound the worst wait (see the module's
# docstring, "Variants").
VARIANTS: Tuple[Contender, ...] = (
    Contender("gosync.Mutex, GIL handed (wait owner)", gosync.Mutex, gil_handoff=-1),
    Contender("gosync.Mutex, GIL handed (yield)", gosync.Mutex, gil_handoff=0),
    Contender("gosync.Mutex, GIL handed (sleep 20 us)", gosync.Mutex, gil_handoff=20),
    Contender("gosync.Mutex, switch 1 ms", gosync.Mutex, switch_interval=1e-3),
    Contender("threading.Lock, switch 1 ms", threading.Lock, switch_interval=1e-3),
    Contender("gosync.Mutex, switch 0.5 ms", gosync.Mutex, switch_interval=0.5e-3),
    Contender("threading.Lock, switch 0.5 ms", threading.Lock, switch_interval=0.5e-3),
)


class _ThenWork:
    """A lock whose unlock is followed by `seconds` of Python (a busy
    loop), run by the unlocking thread before it can come back."""

    def __init__(self, lock: Lock, seconds: float) -> None:
        self._lock = lock
        self._seconds = seconds

    def __enter__(self) -> Any:
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)
        end = perf_counter() + self._seconds
        while perf_counter() < end:
            pass


def _then_work(make: Callable[[], Lock], seconds: float) -> Callable[[], Lock]:
    """make, or (seconds > 0) make wrapped in _ThenWork."""
    if not seconds > 0:
        return make
    return lambda: _ThenWork(make(), seconds)


def _gil_handoff_switch() -> Optional[Callable[[int], Any]]:
    """benchmarks/gil_handoff.patch's _set_gil_handoff, if this build has
    it."""
    from gosync import _gosync

    switch: Optional[Callable[[int], Any]] = getattr(_gosync, "_set_gil_handoff", None)
    return switch


def available(contenders: Sequence[Contender]) -> List[Contender]:
    """contenders, less those that need the GIL-handoff switch when this
    build lacks it."""
    if _gil_handoff_switch() is not None:
        return list(contenders)
    left = [c for c in contenders if c.gil_handoff is None]
    if len(left) < len(contenders):
        print(
            "starvation.py: no GIL-handoff switch in this build (benchmarks/gil_handoff.patch): "
            "its variants are left out",
            file=sys.stderr,
        )
    return left


def _setting(c: Contender, runner: TimedRunner) -> TimedRunner:
    """runner, run under c's switch interval and GIL handoff, both restored
    after each run."""
    if c.switch_interval is None and c.gil_handoff is None:
        return runner

    handoff = _gil_handoff_switch() if c.gil_handoff is not None else None
    if c.gil_handoff is not None and handoff is None:
        raise ValueError(f"{c.name}: this build has no GIL-handoff switch (benchmarks/gil_handoff.patch)")

    def run(threads: int, seconds: float) -> Sample:
        interval = sys.getswitchinterval()
        if c.switch_interval is not None:
            sys.setswitchinterval(c.switch_interval)
        if handoff is not None and c.gil_handoff is not None:
            handoff(c.gil_handoff)
        try:
            return runner(threads, seconds)
        finally:
            sys.setswitchinterval(interval)
            if handoff is not None:
                handoff(-2)  # off

    return run


Figures = Dict[str, Optional[float]]


def figures(s: Sample) -> Figures:
    """One round's figures: the longest, 99th and 50th percentile wait in
    microseconds, the fairness and the ns per acquisition."""
    waits = sorted(s.waits_ns)
    return {
        "max_us": waits[-1] / 1e3,
        "p99_us": waits[(len(waits) - 1) * 99 // 100] / 1e3,
        "p50_us": waits[(len(waits) - 1) // 2] / 1e3,
        "fairness": s.fairness,
        "ns_per_op": s.ns_per_op,
    }


def measure(
    threads: Sequence[int], rounds: int, seconds: float, contenders: Sequence[Contender] = CONTENDERS
) -> List[Dict[str, Any]]:
    """Every section, thread count and contender: `rounds` rounds each,
    interleaved, of `seconds` each."""
    out = []
    sections = {**SECTIONS, **WORK_SECTIONS} if len(contenders) > len(CONTENDERS) else SECTIONS
    for section, (_, count, hold_s) in sections.items():
        outside_s = OUTSIDE_S if section in WORK_SECTIONS else 0.0
        runners: List[Tuple[str, TimedRunner]] = [
            (c.name, _setting(c, _lock_contention(_then_work(c.make, outside_s), count, hold_s, every=1)[1]))
            for c in contenders
        ]
        for t in threads:
            for _, timed in runners:  # warm-up, untimed
                timed(t, seconds / 4)
            got: Dict[str, List[Figures]] = {c.name: [] for c in contenders}  # in the table's order
            for _ in range(rounds):
                for name, timed in runners:
                    gc.collect()
                    got[name].append(figures(timed(t, seconds)))
                runners.reverse()
            out.append({"section": section, "threads": t, "rounds": got})
            print(f"  {section} x{t} done", file=sys.stderr, flush=True)
    return out


def _cell(xs: Sequence[Optional[float]], fmt: str) -> str:
    """The median, then the lowest and highest in brackets."""
    ys = [x for x in xs if x is not None]
    if not ys:
        return "-"
    return f"{format(statistics.median(ys), fmt)} ({format(min(ys), fmt)}-{format(max(ys), fmt)})"


def render(results: Dict[str, Any]) -> str:
    """The markdown table of a run: one row per section, thread count and
    contender, and the ratio of the medians of the longest wait."""
    m = results["machine"]
    lines = [
        f"`{results['command']}`",
        "",
        f"{results['date']}; {m['usable_cpus']} of {m['cpus']} CPUs usable ({m['cpu_model']}); {m['python']}, "
        f"switch interval {m['switch_interval_ms']:g} ms; {results['rounds']} rounds of {results['seconds']:g} s "
        "per contender, interleaved; every acquisition timed. Each cell: the median over the rounds, "
        "(lowest-highest).",
        "",
        "| section | threads | contender | max wait ms | p99 wait us | p50 wait us | fairness | ns/op |"
        " Lock's max / gosync's |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        title = {**SECTIONS, **WORK_SECTIONS}[r["section"]][0]
        medians = {name: statistics.median(f["max_us"] for f in fs) for name, fs in r["rounds"].items()}
        first = True
        for name in r["rounds"]:
            fs = r["rounds"][name]
            ratio = ""
            if name == CONTENDERS[0].name:
                ratio = f"{medians['threading.Lock'] / medians[name]:.1f}x"
            lines.append(
                "| "
                + " | ".join(
                    [
                        title if first else "",
                        str(r["threads"]) if first else "",
                        name,
                        _cell([f["max_us"] / 1e3 for f in fs], ".1f"),
                        _cell([f["p99_us"] for f in fs], ".0f"),
                        _cell([f["p50_us"] for f in fs], ".1f"),
                        _cell([f["fairness"] for f in fs], ".2f"),
                        _cell([f["ns_per_op"] for f in fs], ".0f"),
                        ratio,
                    ]
                )
                + " |"
            )
            first = False
    return "\n".join(lines) + "\n"


def summary(results: Dict[str, Any]) -> str:
    """Compact tables of a run with variants: for each contender (a row)
    and section and thread count (a column), the median over the rounds of
    the longest wait in ms, then of the 99th percentile in us."""
    cells = [r for r in results["runs"] if r["threads"] > 1]
    names = list(cells[0]["rounds"]) if cells else []
    head = "| contender | " + " | ".join(f"{r['section']} x{r['threads']}" for r in cells) + " |"
    rule = "|---|" + "---:|" * len(cells)
    out = []
    for what, key, scale, fmt in (("max wait, ms", "max_us", 1e3, ".1f"), ("p99 wait, us", "p99_us", 1.0, ".0f")):
        out += [f"{what}, median over the rounds:", "", head, rule]
        for name in names:
            row = [format(statistics.median(f[key] for f in r["rounds"][name]) / scale, fmt) for r in cells]
            out.append(f"| {name} | " + " | ".join(row) + " |")
        out.append("")
    return "\n".join(out)


def _read(path: str) -> Dict[str, Any]:
    with open(path) as f:
        results: Dict[str, Any] = json.load(f)
    return results


def pooled(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Saved runs as one: each (section, threads) cell's rounds are all the
    runs' rounds, and the heading says how many runs and dates."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    if any(r["seconds"] != first["seconds"] for r in runs):
        raise SystemExit("starvation.py: --from runs of different --seconds do not pool")
    cells: Dict[Tuple[str, int], Dict[str, List[Figures]]] = {}
    for r in runs:
        for cell in r["runs"]:
            got = cells.setdefault((cell["section"], cell["threads"]), {})
            for name, fs in cell["rounds"].items():
                got.setdefault(name, []).extend(fs)
    return {
        **first,
        "command": " ; ".join(r["command"] for r in runs),
        "date": f"{len(runs)} runs, {first['date']} to {runs[-1]['date']}",
        "rounds": sum(r["rounds"] for r in runs),
        "runs": [{"section": k[0], "threads": k[1], "rounds": v} for k, v in cells.items()],
    }


def _threads(text: str) -> List[int]:
    try:
        counts = sorted({int(x) for x in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not counts or any(not 1 <= c <= 64 for c in counts):
        raise argparse.ArgumentTypeError(f"thread counts must be between 1 and 64: {text!r}")
    return counts


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/starvation.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds per contender, at least 3 (default 5)")
    ap.add_argument("--seconds", type=float, default=0.5, help="wall time of one round of one contender (0.5)")
    ap.add_argument("--threads", type=_threads, default=_threads("1,2,4,8"), help="thread counts (1,2,4,8)")
    ap.add_argument(
        "--variants", action="store_true", help="also run the variants: GIL handed along, shorter switch intervals"
    )
    ap.add_argument("--json", metavar="FILE", help="also write every round's figures to FILE")
    ap.add_argument(
        "--from", dest="load", nargs="+", metavar="FILE", help="render --json files (their rounds pooled), not measure"
    )
    argv = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(argv)
    if args.rounds < 3:
        ap.error("--rounds: a median needs at least 3 rounds")
    if not 0 < args.seconds <= 60:
        ap.error("--seconds must be in (0, 60]")
    if args.load:
        results = pooled([_read(path) for path in args.load])
    else:
        import datetime

        contenders = available(CONTENDERS + VARIANTS) if args.variants else CONTENDERS
        runs = measure(args.threads, args.rounds, args.seconds, contenders)
        results = {
            "command": " ".join(["python benchmarks/starvation.py", *argv]),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "rounds": args.rounds,
            "seconds": args.seconds,
            "runs": runs,
        }
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f)
    print(render(results), end="")
    if any(len(r["rounds"]) > len(CONTENDERS) for r in results["runs"]):
        print("\n" + summary(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
