"""Benchmark scenarios: gosync.Mutex against threading.Lock.

Each scenario is defined once, here, and run by both test_mutex_bench.py
(pytest-benchmark) and ratios.py (the threshold checks). A contender is a
function that takes an iteration count n and returns the seconds those
iterations took (time.perf_counter). Setup (making the lock, binding
methods, starting threads) happens before the clock starts.

Every timed loop is `for _ in repeat(None, n)`, written once per loop shape
and shared by both contenders, so loop overhead is the same on both sides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import repeat
from time import perf_counter
from typing import Any

import gosync

__all__ = ["SCENARIOS", "THREADS", "Runner", "Scenario"]

Runner = Callable[[int], float]
Lock = AbstractContextManager[Any]

# More threads than the 2-core VMs we run on have cores, so waiters park.
THREADS = 4


def _with_loop(lock: Lock, n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        with lock:
            pass
    return perf_counter() - t0


# Both contenders get their methods pre-bound into locals, so neither pays an
# attribute lookup inside the loop; what is left is the call itself.
def _pair_loop(acquire: Callable[[], object], release: Callable[[], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        acquire()
        release()
    return perf_counter() - t0


# Same loop as _pair_loop; the one extra argument is part of threading's API
# for a non-blocking acquire, so it belongs in the measurement.
def _pair_loop_nonblocking(
    acquire: Callable[[bool], object], release: Callable[[], object], n: int
) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        acquire(False)
        release()
    return perf_counter() - t0


def _contended(lock: Lock, n: int) -> float:
    """THREADS threads each do n locked increments of one shared counter.

    Returns the wall time from the common start to the last join, and raises
    AssertionError (even under -O) if any increment was lost.
    """
    counter = [0]
    start = threading.Barrier(THREADS + 1)

    def worker() -> None:
        start.wait()
        for _ in repeat(None, n):
            with lock:
                counter[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    start.wait()
    t0 = perf_counter()
    for t in threads:
        t.join()
    elapsed = perf_counter() - t0
    if counter[0] != THREADS * n:
        raise AssertionError(f"lost updates: counter={counter[0]}, expected {THREADS * n}")
    return elapsed


@dataclass(frozen=True, eq=False)
class Scenario:
    """One scenario: contenders measured the same way, and its target.

    `threads` is how many threads share the lock; each does n iterations,
    so a sample is n * threads operations. The ratio is gosync time /
    threading time, lower is better; for a `throughput` scenario it is
    gosync throughput / threading throughput, higher is better. A target of
    None means report only.
    """

    name: str
    contenders: Mapping[str, Runner]
    n: int  # iterations per sample in ratios.py: tens of milliseconds
    threads: int = 1
    target: float | None = None
    throughput: bool = False

    def ratio(self, gosync_ns: float, threading_ns: float) -> float:
        """The scenario's ratio from the two contenders' ns per op."""
        if self.throughput:
            return threading_ns / gosync_ns
        return gosync_ns / threading_ns

    def passes(self, ratio: float) -> bool | None:
        """Whether the ratio meets the target; None if there is no target."""
        if self.target is None:
            return None
        return ratio >= self.target if self.throughput else ratio <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>=' if self.throughput else '<='} {self.target:g}"


def _mutex_pair(n: int) -> float:
    m = gosync.Mutex()
    return _pair_loop(m.lock, m.unlock, n)


def _lock_pair(n: int) -> float:
    lk = threading.Lock()
    return _pair_loop(lk.acquire, lk.release, n)


def _mutex_try(n: int) -> float:
    m = gosync.Mutex()
    return _pair_loop(m.try_lock, m.unlock, n)


def _lock_try(n: int) -> float:
    lk = threading.Lock()
    return _pair_loop_nonblocking(lk.acquire, lk.release, n)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "uncontended_with",
        {
            "gosync": lambda n: _with_loop(gosync.Mutex(), n),
            "threading": lambda n: _with_loop(threading.Lock(), n),
        },
        n=200_000,
        target=1.5,
    ),
    Scenario(
        "lock_unlock_pair",
        {"gosync": _mutex_pair, "threading": _lock_pair},
        n=200_000,
        target=1.5,
    ),
    Scenario(
        "try_lock_unlock",
        {"gosync": _mutex_try, "threading": _lock_try},
        n=200_000,
    ),
    Scenario(
        "contended_with_counter",
        {
            "gosync": lambda n: _contended(gosync.Mutex(), n),
            "threading": lambda n: _contended(threading.Lock(), n),
        },
        n=40_000,
        threads=THREADS,
        target=0.8,
        throughput=True,
    ),
)
