"""The record store: contention events summed per primitive and stack."""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, List, NamedTuple, Tuple

from ._histogram import Histogram

__all__ = ["BLOCK", "MUTEX", "Frame", "Stack", "SiteRow", "StackRow", "Snapshot", "Store", "record", "store"]

# BLOCK is the block profile: a waiter's delay, charged to the waiter's stack.
BLOCK = "block"
# MUTEX is the mutex profile: the waiters' delay, charged to the stack of the
# thread whose unlock ended it.
MUTEX = "mutex"
_KINDS = (BLOCK, MUTEX)


class Frame(NamedTuple):
    """Frame is one call in a stack: the function, its file and the line."""

    function: str
    filename: str
    line: int


# Stack is a call stack, leaf (innermost call) first, as pprof orders it.
Stack = Tuple[Frame, ...]


class StackRow(NamedTuple):
    """StackRow is the sum of the events of one primitive at one stack."""

    site: str
    stack: Stack
    contentions: float
    total_ns: float


class SiteRow(NamedTuple):
    """SiteRow is the sum of the events of one primitive, over all stacks."""

    site: str
    contentions: float
    total_ns: float
    p99_ns: int


class Snapshot(NamedTuple):
    """Snapshot is a copy of one profile of a Store at one time.

    start_ns and end_ns are wall-clock nanoseconds since the epoch: when the
    store was created or last reset, and when the snapshot was taken.
    """

    kind: str
    stacks: List[StackRow]
    sites: List[SiteRow]
    start_ns: int
    end_ns: int


class _Sum:
    __slots__ = ("count", "total_ns")

    def __init__(self) -> None:
        self.count = 0.0
        self.total_ns = 0.0


class _Site:
    __slots__ = ("count", "total_ns", "histogram")

    def __init__(self) -> None:
        self.count = 0.0
        self.total_ns = 0.0
        self.histogram = Histogram()


class Store:
    """Store sums contention events per profile, primitive site and stack.

    It is safe for concurrent use. Its lock is a threading.Lock, not a gosync
    primitive, so that recording an event never records another one. Memory
    grows with the number of distinct (site, stack) pairs, not with the
    number of events: each site keeps a bounded histogram for its p99.
    """

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stacks: Dict[Tuple[str, str, Stack], _Sum] = {}
        self._sites: Dict[Tuple[str, str], _Site] = {}
        self._start_ns = clock()

    def record(self, kind: str, site: str, stack: Stack, delay_ns: int, weight: float = 1.0) -> None:
        """record adds one event that delayed threads by delay_ns.

        kind is BLOCK or MUTEX; site names the primitive (its creation site
        file:line, or the name= it was given); stack is the stack the event
        is charged to, leaf first. weight is how many events the sampled one
        stands for: it multiplies both the count and the delay, as Go's
        saveBlockEventStack scales a sampled event (see docs/DESIGN.md).

        An unknown kind, a negative delay or a weight that is not positive
        raises ValueError and records nothing.
        """
        if kind not in _KINDS:
            raise ValueError(f"gosync: unknown profile kind {kind!r}")
        if delay_ns < 0:
            raise ValueError(f"gosync: negative delay {delay_ns}")
        if not weight > 0:
            raise ValueError(f"gosync: profile weight must be positive, got {weight!r}")
        with self._lock:
            key = (kind, site, stack)
            s = self._stacks.get(key)
            if s is None:
                s = self._stacks[key] = _Sum()
            s.count += weight
            s.total_ns += delay_ns * weight
            site_key = (kind, site)
            t = self._sites.get(site_key)
            if t is None:
                t = self._sites[site_key] = _Site()
            t.count += weight
            t.total_ns += delay_ns * weight
            t.histogram.add(delay_ns, weight)

    def snapshot(self, kind: str) -> Snapshot:
        """snapshot returns a copy of the profile kind (BLOCK or MUTEX).

        Sites come by total wait, largest first, then by name; stacks by
        site, then by total wait, largest first. An unknown kind raises
        ValueError.
        """
        if kind not in _KINDS:
            raise ValueError(f"gosync: unknown profile kind {kind!r}")
        with self._lock:
            stacks = [
                StackRow(site, stack, s.count, s.total_ns) for (k, site, stack), s in self._stacks.items() if k == kind
            ]
            sites = [
                SiteRow(site, t.count, t.total_ns, t.histogram.quantile(0.99))
                for (k, site), t in self._sites.items()
                if k == kind
            ]
            start_ns = self._start_ns
        sites.sort(key=lambda r: (-r.total_ns, r.site))
        stacks.sort(key=lambda r: (r.site, -r.total_ns, r.stack))
        return Snapshot(kind, stacks, sites, start_ns, self._clock())

    def reset(self) -> None:
        """reset forgets every event and restarts the profile's duration."""
        with self._lock:
            self._stacks.clear()
            self._sites.clear()
            self._start_ns = self._clock()


# store is the process's store, the one the primitives' hooks record into.
store = Store()


def record(kind: str, site: str, stack: Stack, delay_ns: int, weight: float = 1.0) -> None:
    """record adds one event to the process's store: see Store.record."""
    store.record(kind, site, stack, delay_ns, weight)
