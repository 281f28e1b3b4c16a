"""Benchmark scenarios: gosync against what a user would pick instead.

Each scenario is defined once, here, and run by both test_bench.py
(pytest-benchmark) and ratios.py (the threshold checks). It has two
contenders: "gosync", and its baseline (threading.Lock unless the scenario
names another: the atomics or cereggii package, a lock-guarded int or dict,
allocating a new object). A contender is a function that takes an iteration
count n and returns the seconds those iterations took (time.perf_counter).
Setup (making the lock, binding methods, starting threads) happens before
the clock starts.

Every timed loop is `for _ in repeat(None, n)`, written once per loop shape
and shared by both contenders where the operations allow it, so loop
overhead is the same on both sides.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import repeat
from time import perf_counter
from typing import Any

import gosync
import gosync.atomic

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

    `contenders` maps "gosync" and the `baseline` name to their runners.
    `threads` is how many threads share the object; each does n iterations,
    so a sample is n * threads operations. The ratio is gosync time /
    baseline time, lower is better; for a `throughput` scenario it is gosync
    throughput / baseline throughput, and for a `speedup` scenario baseline
    time / gosync time ("N times faster"), both higher is better. A target
    of None means report only. `requires` names a module the baseline needs;
    without it the scenario is skipped.
    """

    name: str
    contenders: Mapping[str, Runner]
    n: int  # iterations per sample in ratios.py: tens of milliseconds
    threads: int = 1
    target: float | None = None
    throughput: bool = False
    baseline: str = "threading"
    speedup: bool = False
    requires: str | None = None

    @property
    def higher_is_better(self) -> bool:
        return self.throughput or self.speedup

    def available(self) -> bool:
        """Whether the baseline's module is installed."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    def ratio(self, gosync_ns: float, baseline_ns: float) -> float:
        """The scenario's ratio from the two contenders' ns per op."""
        if self.higher_is_better:
            return baseline_ns / gosync_ns
        return gosync_ns / baseline_ns

    def passes(self, ratio: float) -> bool | None:
        """Whether the ratio meets the target; None if there is no target."""
        if self.target is None:
            return None
        return ratio >= self.target if self.higher_is_better else ratio <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {self.target:g}"


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


# ---- gosync.atomic ----------------------------------------------------------------


def _call_loop(op: Callable[[], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        op()
    return perf_counter() - t0


def _call_loop_1(op: Callable[[int], object], n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        op(1)
    return perf_counter() - t0


def _int64_add(n: int) -> float:
    return _call_loop_1(gosync.atomic.Int64().add, n)


def _atomics_fetch_add(n: int) -> float:
    import atomics

    return _call_loop_1(atomics.atomic(width=8, atype=atomics.INT).fetch_add, n)


def _cereggii_increment(n: int) -> float:
    import cereggii

    return _call_loop(cereggii.AtomicInt64(0).increment_and_get, n)


def _locked_increment(n: int) -> float:
    lock = threading.Lock()
    x = 0
    t0 = perf_counter()
    for _ in repeat(None, n):
        with lock:
            x += 1
    return perf_counter() - t0


# ---- gosync.Map -----------------------------------------------------------------------

MAP_KEYS = 1024


# Built once and shared by every sample: pytest-benchmark times the whole
# runner call, so per-call setup of 1024 keys would swamp the loads.
@functools.lru_cache(maxsize=None)
def _loaded_map() -> gosync.Map[int, int]:
    m: gosync.Map[int, int] = gosync.Map()
    for k in range(MAP_KEYS):
        m.store(k, k)
    for k in range(MAP_KEYS):
        m.load(k)  # the misses publish dirty: every key is now a stable one
    return m


@functools.lru_cache(maxsize=None)
def _locked_dict() -> tuple[dict[int, int], threading.Lock]:
    return {k: k for k in range(MAP_KEYS)}, threading.Lock()


def _map_load(n: int) -> float:
    load = _loaded_map().load
    key = MAP_KEYS // 2
    t0 = perf_counter()
    for _ in repeat(None, n):
        load(key)
    return perf_counter() - t0


def _dict_lock_get(n: int) -> float:
    d, lock = _locked_dict()
    get = d.get
    key = MAP_KEYS // 2
    t0 = perf_counter()
    for _ in repeat(None, n):
        with lock:
            get(key)
    return perf_counter() - t0


# ---- gosync.Pool ------------------------------------------------------------------------

BUFFER_SIZE = 64 * 1024


def _pool_get_put(n: int) -> float:
    p: gosync.Pool[bytearray] = gosync.Pool(new=lambda: bytearray(BUFFER_SIZE))
    get, put = p.get, p.put
    t0 = perf_counter()
    for _ in repeat(None, n):
        put(get())
    return perf_counter() - t0


def _allocate(n: int) -> float:
    t0 = perf_counter()
    for _ in repeat(None, n):
        bytearray(BUFFER_SIZE)
    return perf_counter() - t0


# ---- RWMutex, WaitGroup, Once ------------------------------------------------------


def _with_each(make: Callable[[], Lock], n: int) -> float:
    """`with make(): pass`, n times: a lock object made at each use."""
    t0 = perf_counter()
    for _ in repeat(None, n):
        with make():
            pass
    return perf_counter() - t0


def _rlocker_with(n: int) -> float:
    return _with_each(gosync.RWMutex().rlocker, n)


# Each library's idiomatic read lock, made at the point of use as its README
# shows, just as Go code writes rw.RLocker() where it needs one.
def _rwlock_fair_with(n: int) -> float:
    from readerwriterlock import rwlock

    return _with_each(rwlock.RWLockFair().gen_rlock, n)


def _fasteners_with(n: int) -> float:
    import fasteners

    return _with_each(fasteners.ReaderWriterLock().read_lock, n)


def _read_heavy(rlock: Callable[[], Lock], wlock: Callable[[], Lock], n: int) -> float:
    """THREADS threads each do n operations on a shared dict: 9 of 10 read
    it under the read lock, 1 of 10 writes it under the write lock."""
    table = {i: i for i in range(64)}
    start = threading.Barrier(THREADS + 1)

    def worker() -> None:
        start.wait()
        for i in range(n):
            if i % 10 == 0:
                with wlock():
                    table[i % 64] = i
            else:
                with rlock():
                    table.get(i % 64)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    start.wait()
    t0 = perf_counter()
    for t in threads:
        t.join()
    return perf_counter() - t0


def _read_heavy_gosync(n: int) -> float:
    rw = gosync.RWMutex()
    return _read_heavy(rw.rlocker, lambda: rw, n)


def _read_heavy_rwlock(n: int) -> float:
    from readerwriterlock import rwlock

    lock = rwlock.RWLockFair()
    return _read_heavy(lock.gen_rlock, lock.gen_wlock, n)


def _waitgroup_add_done(n: int) -> float:
    wg = gosync.WaitGroup()
    add, done = wg.add, wg.done
    t0 = perf_counter()
    for _ in repeat(None, n):
        add(1)
        done()
    return perf_counter() - t0


def _once_done(n: int) -> float:
    once = gosync.Once()
    once.do(int)
    do = once.do
    return _call_loop_1(do, n)


class _Empty:
    def method(self, arg: object) -> None:
        pass


def _empty_method(n: int) -> float:
    return _call_loop_1(_Empty().method, n)


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
    Scenario(
        "int64_add_vs_atomics",
        {"gosync": _int64_add, "atomics": _atomics_fetch_add},
        n=20_000,  # atomics' fetch_add takes microseconds
        target=20,
        speedup=True,
        baseline="atomics",
        requires="atomics",
    ),
    Scenario(
        "int64_add_vs_locked_int",
        {"gosync": _int64_add, "lock+int": _locked_increment},
        n=200_000,
        target=1,
        speedup=True,
        baseline="lock+int",
    ),
    Scenario(
        "int64_add_vs_cereggii",
        {"gosync": _int64_add, "cereggii": _cereggii_increment},
        n=200_000,
        target=2.5,
        baseline="cereggii",
        requires="cereggii",
    ),
    Scenario(
        "map_load_vs_dict_lock",
        {"gosync": _map_load, "dict+lock": _dict_lock_get},
        n=200_000,
        target=1.5,
        speedup=True,
        baseline="dict+lock",
    ),
    Scenario(
        "pool_64k_vs_allocate",
        {"gosync": _pool_get_put, "bytearray": _allocate},
        n=20_000,
        target=2,
        speedup=True,
        baseline="bytearray",
    ),
    Scenario(
        "rlocker_with_vs_threading_with",
        {"gosync": _rlocker_with, "threading": lambda n: _with_loop(threading.Lock(), n)},
        n=200_000,
        target=1.5,
    ),
    Scenario(
        "rlocker_with_vs_rwlock_fair",
        {"gosync": _rlocker_with, "readerwriterlock": _rwlock_fair_with},
        n=50_000,
        target=8,
        speedup=True,
        baseline="readerwriterlock",
        requires="readerwriterlock",
    ),
    Scenario(
        "rlocker_with_vs_fasteners",
        {"gosync": _rlocker_with, "fasteners": _fasteners_with},
        n=50_000,
        target=5,
        speedup=True,
        baseline="fasteners",
        requires="fasteners",
    ),
    Scenario(
        "read_heavy_mix_vs_rwlock_fair",
        {"gosync": _read_heavy_gosync, "readerwriterlock": _read_heavy_rwlock},
        n=10_000,
        threads=THREADS,
        target=3,
        throughput=True,
        baseline="readerwriterlock",
        requires="readerwriterlock",
    ),
    Scenario(
        "waitgroup_add_done_vs_lock_pair",
        {"gosync": _waitgroup_add_done, "threading": _lock_pair},
        n=200_000,
        target=1.5,
    ),
    Scenario(
        "once_done_vs_empty_method",
        {"gosync": _once_done, "method": _empty_method},
        n=200_000,
        target=1.2,
        baseline="method",
    ),
)
