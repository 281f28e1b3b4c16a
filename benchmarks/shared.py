"""gosync.shared against the ways processes lock today (issue 13).

    python benchmarks/shared.py [--quick] [--rounds N] [--runs 3]

Part one is `python -m gosync bench --only shared_ --check`: side by side
in one process, the shared Mutex's uncontended `with` against the
in-process gosync.Mutex, multiprocessing.Lock, posix_ipc.Semaphore,
fasteners.InterProcessLock and fastipc's Mutex (those three when installed:
the bench extra); the shared Int64.add(1) against the lock-guarded increment
of a multiprocessing.Value; two processes, one per core, contending on one
lock; and the primes job with 2 workers, processes against threads. It ends
with every target of the issue and its measured ratio.

Part two runs examples/primes.py itself, `--runs` times (default 3), with
2 workers, and prints each run's speedup of processes over threads and the
median: the figure the README states.

It exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

from gosync._bench.cli import main as bench

PRIMES = Path(__file__).resolve().parent.parent / "examples" / "primes.py"


def primes_speedups(runs: int) -> list[float]:
    speedups = []
    for i in range(runs):
        out = subprocess.run(
            [sys.executable, str(PRIMES), "--workers", "2"], capture_output=True, text=True, timeout=600, check=True
        ).stdout
        print(f"run {i + 1}: " + out.strip().replace("\n", "\n       "))
        found = re.search(r"speedup of processes over threads: (\d+\.\d+)x", out)
        if found is None:
            raise SystemExit(f"examples/primes.py printed no speedup:\n{out}")
        speedups.append(float(found.group(1)))
    return speedups


def main() -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--runs", type=int, default=3)
    ours, rest = ap.parse_known_args()
    if "--only" not in rest:
        rest += ["--only", "shared_"]
    status = bench(rest, prog="python benchmarks/shared.py", check=True)
    print(f"\n$ python examples/primes.py --workers 2   ({ours.runs} runs)")
    speedups = primes_speedups(ours.runs)
    print(
        f"speedup of processes over threads: median {statistics.median(speedups):.2f}x "
        f"(range {min(speedups):.2f}-{max(speedups):.2f}x)"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
