"""Count the primes below a limit with N workers, as threads and as processes.

    python examples/primes.py [--limit 200000] [--workers 2] [--start fork|spawn|forkserver]

The seeds' first parallel job. Both variants run the same worker: it takes
the next block of numbers from an atomic counter, tests each by trial
division, and adds its block's count to a result guarded by a Mutex; a
WaitGroup tells the main program when every worker is done.

The threads use gosync's in-process primitives. Under CPython's GIL they
take turns, so they are no faster than one thread. The processes use the
same primitives from gosync.shared, in shared memory: they run in parallel,
one per core. The example prints each variant's count and wall time
(process start-up included) and the speedup of processes over threads.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import threading
import time
from multiprocessing.sharedctypes import RawValue
from typing import Any, Callable

import gosync
import gosync.atomic
import gosync.shared

BLOCK = 1000  # numbers a worker takes at a time


def is_prime(n: int) -> bool:
    """Trial division by 2 and the odd numbers up to the square root."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for d in range(3, math.isqrt(n) + 1, 2):
        if n % d == 0:
            return False
    return True


def worker(limit: int, next_block: Any, mu: Any, result: Any, wg: Any) -> None:
    """Counts primes block by block until none is left below limit.

    next_block is an atomic Int64, mu a Mutex guarding result.value, wg a
    WaitGroup this worker leaves when done. The same code serves threads
    (gosync's primitives) and processes (gosync.shared's)."""
    try:
        while True:
            end = next_block.add(BLOCK)  # add returns the new value
            start = end - BLOCK
            if start >= limit:
                return
            found = sum(1 for n in range(start, min(end, limit)) if is_prime(n))
            with mu:
                result.value += found
    finally:
        wg.done()


def run(variant: str, limit: int, workers: int, start_method: str) -> tuple[int, float]:
    """Runs one variant, "threads" or "processes"; returns (count, seconds)."""
    t0 = time.perf_counter()
    # A plain shared integer: the Mutex, not the memory, makes += safe.
    result = RawValue("q", 0)
    launch: Callable[..., Any]
    if variant == "threads":
        next_block, mu, wg = gosync.atomic.Int64(), gosync.Mutex(), gosync.WaitGroup()
        launch = threading.Thread
    else:
        next_block, mu, wg = gosync.shared.atomic.Int64(), gosync.shared.Mutex(), gosync.shared.WaitGroup()
        launch = multiprocessing.get_context(start_method).Process
    wg.add(workers)
    runners = [launch(target=worker, args=(limit, next_block, mu, result, wg)) for _ in range(workers)]
    for r in runners:
        r.start()
    if not wg.wait(timeout=600):
        raise SystemExit(f"{variant}: the workers did not finish within 600 s")
    for r in runners:
        r.join()
    seconds = time.perf_counter() - t0
    return int(result.value), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Count the primes below a limit, with threads and with processes.")
    ap.add_argument("--limit", type=int, default=200_000, help="count the primes below this (default 200000)")
    ap.add_argument("--workers", type=int, default=2, help="workers per variant (default 2)")
    ap.add_argument(
        "--start", default=multiprocessing.get_start_method(), choices=multiprocessing.get_all_start_methods(),
        help="the multiprocessing start method (default: the platform's)",
    )
    args = ap.parse_args(argv)
    if args.limit < 0 or args.workers < 1:
        ap.error("--limit must be >= 0 and --workers >= 1")
    times = {}
    for variant in ("threads", "processes"):
        count, seconds = run(variant, args.limit, args.workers, args.start)
        times[variant] = seconds
        print(f"{variant:<9} ({args.workers} workers): {count} primes below {args.limit} in {seconds:.3f} s")
    print(f"speedup of processes over threads: {times['threads'] / times['processes']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
