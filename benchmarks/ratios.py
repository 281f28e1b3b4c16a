"""Side-by-side ratio checks: gosync against threading and other libraries.

    python benchmarks/ratios.py [--rounds N] [--quick] [--only SUBSTRING]

Runs every scenario of scenarios.py in this one process, interleaving the
contenders round by round, and compares their median ns per op. Ratios,
not absolute times, are what carry across noisy machines. A scenario whose
baseline library is not installed is listed as skipped. Exits 1 if any
target is missed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys

from scenarios import SCENARIOS, Scenario

import gosync

DEFAULT_ROUNDS = 21
QUICK_ROUNDS = 11
QUICK_SCALE = 2  # --quick samples are this many times smaller
A = "gosync"
ROW = "{:<32} {:>13} {:>16} {:>13} {:>7} {:>8}  {}"


def machine() -> str:
    """One line describing the CPUs and the interpreter."""
    try:
        usable: int | str = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        usable = "?"
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return (
        f"cpus={os.cpu_count()} usable={usable} "
        f"{platform.python_implementation()} {platform.python_version()} "
        f"gil={'on' if gil else 'off'} gosync={gosync.__version__} "
        f"switchinterval={sys.getswitchinterval() * 1e3:g}ms"
    )


def measure(s: Scenario, n: int, rounds: int) -> dict[str, float]:
    """Median ns per op of each contender over `rounds` interleaved samples."""
    samples: dict[str, list[float]] = {name: [] for name in s.contenders}
    order = list(s.contenders)
    for run in s.contenders.values():  # warm-up, untimed
        run(n)
    for _ in range(rounds):
        for name in order:
            gc.collect()  # so no contender pays for another's garbage
            samples[name].append(s.contenders[name](n) * 1e9 / (n * s.threads))
        # Reversing each round (A B B A ...) keeps either side from always
        # running first, e.g. right after the other one's threads exit.
        order.reverse()
    return {name: statistics.median(v) for name, v in samples.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, print the table, return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, help=f"samples per contender (default {DEFAULT_ROUNDS})")
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller samples")
    ap.add_argument("--only", help="run only the scenarios whose name contains this")
    args = ap.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    scale = QUICK_SCALE if args.quick else 1

    print(machine())
    print(
        f"rounds={rounds}, median per contender; ratio = {A} time / baseline time, "
        "except where the target is >=: there it is the throughput ratio\n"
        "(contended) or baseline time / gosync time (x faster), higher is better\n"
    )
    header = ROW.format("scenario", f"{A} ns/op", "baseline", "baseline ns/op", "ratio", "target", "result")
    print(header)
    print("-" * len(header))
    missed = 0
    for s in SCENARIOS:
        if args.only and args.only not in s.name:
            continue
        if not s.available():
            cells = ("-", s.baseline, "-", "-", s.target_text(), f"skipped: no {s.requires}")
            print(ROW.format(s.name, *cells), flush=True)
            continue
        med = measure(s, max(1, s.n // scale), rounds)
        ratio = s.ratio(med[A], med[s.baseline])
        ok = s.passes(ratio)
        missed += ok is False
        result = "-" if ok is None else "PASS" if ok else "MISS"
        cells = (f"{med[A]:.1f}", s.baseline, f"{med[s.baseline]:.1f}", f"{ratio:.2f}", s.target_text(), result)
        print(ROW.format(s.name, *cells), flush=True)
    print(f"\n{missed} target(s) missed" if missed else "\nall targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
