"""The shape of a benchmark scenario, and the timed loops scenarios share.

A scenario is one operation done by several contenders: gosync first, then
the standard library's way (the baseline of the ratio column), then other
libraries. A contender's runner takes a thread count and a per-thread
iteration count and returns a Sample; a timed runner (the lock scenarios')
takes a thread count and a wall time instead, and every thread works until
the time is up. Setup (making the lock, binding methods, starting threads)
happens before the clock starts.

Every timed loop is `for _ in repeat(None, n)`, written once per loop shape
and shared by all contenders where the operations allow it, so loop overhead
is the same on every side.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from itertools import repeat
from time import perf_counter
from typing import Any, Callable, ContextManager, List, Optional, Tuple

Lock = ContextManager[Any]


@dataclass
class Sample:
    """What one run of one contender measured.

    `seconds` is the wall time from the common start to the last thread's
    end. `shares` is, for a lock under contention, each thread's count of
    acquisitions out of `ops`, and `waits_ns` a sample of how long
    acquisitions waited; both are empty where they mean nothing. A timed
    sample's ops are what the threads did in `seconds`: the time asked for,
    plus the moments the threads took to see that it was up.
    """

    ops: int
    seconds: float
    shares: Tuple[int, ...] = ()
    waits_ns: List[int] = field(default_factory=list)

    @property
    def ns_per_op(self) -> float:
        """Wall time per operation: under contention, inverse throughput."""
        return self.seconds * 1e9 / self.ops

    @property
    def fairness(self) -> Optional[float]:
        """The least-served thread's share over the most-served one's: 1 is
        perfectly fair, 0 means a thread was shut out. None for one thread."""
        if len(self.shares) < 2:
            return None
        return min(self.shares) / max(self.shares)


Runner = Callable[[int, int], Sample]  # (threads, iterations per thread)
TimedRunner = Callable[[int, float], Sample]  # (threads, seconds every thread works)


def single(loop: Callable[[int], float]) -> Runner:
    """single adapts a one-thread loop, n -> seconds, to a Runner."""

    def run(threads: int, n: int) -> Sample:
        return Sample(ops=n, seconds=loop(n))

    return run


@dataclass(frozen=True)
class Contender:
    """One way to do a scenario's operation.

    `requires` names a module it needs; without it the contender is noted
    as missing, not run. A contender whose operation is much slower than
    the others' runs `n // divisor` iterations, so that every sample takes
    a similar time; ns per op is comparable either way. `timed` is the
    same work run for a wall time rather than a count: a timed scenario's
    samples use it, and the pytest-benchmark suite, which times fixed
    batches, uses `run`.
    """

    name: str
    run: Runner
    requires: Optional[str] = None
    divisor: int = 1
    timed: Optional[TimedRunner] = None

    def available(self) -> bool:
        """Whether the module this contender needs is installed."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


@dataclass(frozen=True)
class Target:
    """A target ratio that another issue set, of gosync against one contender.

    kind "time": gosync's time / the other's, at most `limit`.
    kind "faster": the other's time / gosync's, at least `limit`.
    kind "throughput": gosync's throughput / the other's, at least `limit`
    (the same quotient as "faster", read as throughput under contention).
    """

    against: str
    limit: float
    kind: str = "time"
    threads: int = 1

    def ratio(self, gosync_ns: float, other_ns: float) -> float:
        """The measured ratio, oriented as the kind reads."""
        return gosync_ns / other_ns if self.kind == "time" else other_ns / gosync_ns

    def met(self, ratio: float) -> bool:
        """Whether the measured ratio meets the target."""
        return ratio <= self.limit if self.kind == "time" else ratio >= self.limit

    def text(self) -> str:
        """The target as a phrase, e.g. '<= 1.5x the time'."""
        phrase = {"time": "the time", "faster": "faster", "throughput": "the throughput"}[self.kind]
        return f"{'<=' if self.kind == 'time' else '>='} {self.limit:g}x {phrase}"


@dataclass(frozen=True)
class Scenario:
    """One operation, its contenders (gosync's first), and its targets.

    `baseline` names the standard library's contender: the table's ratio
    column is each contender's ns/op over the baseline's. A `contended`
    scenario is run at every thread count asked for, with `n` iterations
    shared out among the threads; the others run on one thread, `n`
    iterations per sample. A scenario with `seconds` is timed: each sample
    runs every contender (its `timed` runner) for that wall time instead,
    and a sample scaled down (--quick) for `quick_seconds`.
    """

    name: str
    title: str
    contenders: Tuple[Contender, ...]
    baseline: str
    n: int
    contended: bool = False
    targets: Tuple[Target, ...] = ()
    seconds: float = 0.0
    quick_seconds: float = 0.0

    def contender(self, name: str) -> Contender:
        """The contender called name."""
        for c in self.contenders:
            if c.name == name:
                return c
        raise KeyError(name)


# ---- loops shared by the scenarios ---------------------------------------------------


def with_loop(lock: Lock, n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        with lock:
            pass
    return perf_counter() - t0


# Methods come pre-bound into locals, so no contender pays an attribute lookup
# inside the loop; what is left is the call itself.
def pair_loop(acquire: Callable[[], object], release: Callable[[], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        acquire()
        release()
    return perf_counter() - t0


# A weight of 1 on both sides: Weighted's API takes the weight, as Go's does.
def pair_loop_1(acquire: Callable[[int], object], release: Callable[[int], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        acquire(1)
        release(1)
    return perf_counter() - t0


# The one extra argument is part of threading's API for a non-blocking
# acquire, so it belongs in the measurement.
def pair_loop_nonblocking(acquire: Callable[[bool], object], release: Callable[[], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        acquire(False)
        release()
    return perf_counter() - t0


def call_loop(op: Callable[[], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        op()
    return perf_counter() - t0


def call_loop_1(op: Callable[[int], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        op(1)
    return perf_counter() - t0


def with_each(make: Callable[[], Lock], n: int) -> float:
    """`with make(): pass`, n times: a lock object made at each use."""
    t0 = perf_counter()
    for _ in repeat(None, n):
        with make():
            pass
    return perf_counter() - t0

