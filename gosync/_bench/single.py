"""Single-thread scenarios: the cost of one uncontended operation.

Each is gosync's operation against the standard library's way of doing the
same thing, and against other libraries where a user might pick one. The
targets are those that issues 2, 3, 4 and 14 set for this 2-core machine.
"""

from __future__ import annotations

import functools
import threading
from itertools import repeat
from time import perf_counter
from typing import Callable, cast

import gosync
import gosync.atomic
import gosync.semaphore

from .scenario import (
    Contender,
    Scenario,
    Target,
    call_loop,
    call_loop_1,
    pair_loop,
    pair_loop_1,
    pair_loop_nonblocking,
    single,
    with_each,
    with_loop,
)

__all__ = ["SINGLE"]


def _mutex_pair(n: int) -> float:
    m = gosync.Mutex()
    return pair_loop(m.lock, m.unlock, n)


def _lock_pair(n: int) -> float:
    lk = threading.Lock()
    return pair_loop(lk.acquire, lk.release, n)


def _mutex_try(n: int) -> float:
    m = gosync.Mutex()
    return pair_loop(m.try_lock, m.unlock, n)


def _lock_try(n: int) -> float:
    lk = threading.Lock()
    return pair_loop_nonblocking(lk.acquire, lk.release, n)


# ---- gosync.atomic ---------------------------------------------------------


def _int64_add(n: int) -> float:
    return call_loop_1(gosync.atomic.Int64().add, n)


def _atomics_fetch_add(n: int) -> float:
    import atomics

    return call_loop_1(atomics.atomic(width=8, atype=atomics.INT).fetch_add, n)


def _cereggii_increment(n: int) -> float:
    import cereggii

    return call_loop(cereggii.AtomicInt64(0).increment_and_get, n)


def _locked_increment(n: int) -> float:
    lock = threading.Lock()
    x = 0
    t0 = perf_counter()
    for _ in repeat(None, n):
        with lock:
            x += 1
    return perf_counter() - t0


# ---- gosync.Map ------------------------------------------------------------

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


# ---- gosync.Pool -----------------------------------------------------------

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


# ---- RWMutex, WaitGroup, Once ----------------------------------------------


def _rlocker_with(n: int) -> float:
    return with_each(gosync.RWMutex().rlocker, n)


# Each library's idiomatic read lock, made at the point of use as its README
# shows, just as Go code writes rw.RLocker() where it needs one.
def _rwlock_fair_with(n: int) -> float:
    from readerwriterlock import rwlock

    return with_each(rwlock.RWLockFair().gen_rlock, n)


def _fasteners_with(n: int) -> float:
    import fasteners

    return with_each(fasteners.ReaderWriterLock().read_lock, n)


def _waitgroup_add_done(n: int) -> float:
    wg = gosync.WaitGroup()
    add, done = wg.add, wg.done
    t0 = perf_counter()
    for _ in repeat(None, n):
        add(1)
        done()
    return perf_counter() - t0


# The standard library's counter that threads can wait on.
def _semaphore_release_acquire(n: int) -> float:
    sem = threading.Semaphore(0)
    return pair_loop(sem.release, sem.acquire, n)


def _once_done(n: int) -> float:
    once = gosync.Once()
    once.do(int)
    # Done, do() no longer looks at its argument: the 1 that call_loop_1
    # passes keeps the call the same shape as the empty method's.
    return call_loop_1(cast(Callable[[int], object], once.do), n)


# ---- gosync.semaphore ------------------------------------------------------


def _weighted_pair(n: int) -> float:
    w = gosync.semaphore.Weighted(10)
    return pair_loop_1(w.acquire, w.release, n)


# The standard library's counting semaphore, taken and given back one at a
# time, as Weighted is here.
def _semaphore_acquire_release(n: int) -> float:
    sem = threading.Semaphore(10)
    return pair_loop(sem.acquire, sem.release, n)


class _Empty:
    def method(self, arg: object) -> None:
        pass


def _empty_method(n: int) -> float:
    return call_loop_1(_Empty().method, n)


_LOCK_WITH = Contender("threading.Lock", single(lambda n: with_loop(threading.Lock(), n)))

SINGLE: tuple[Scenario, ...] = (
    Scenario(
        "mutex_with",
        "`with m: pass`, uncontended",
        (
            Contender("gosync.Mutex", single(lambda n: with_loop(gosync.Mutex(), n))),
            _LOCK_WITH,
            Contender("threading.RLock", single(lambda n: with_loop(threading.RLock(), n))),
        ),
        baseline="threading.Lock",
        n=200_000,
        targets=(Target("threading.Lock", 1.5),),
    ),
    Scenario(
        "mutex_lock_unlock",
        "`lock(); unlock()` vs `acquire(); release()`",
        (Contender("gosync.Mutex", single(_mutex_pair)), Contender("threading.Lock", single(_lock_pair))),
        baseline="threading.Lock",
        n=200_000,
        targets=(Target("threading.Lock", 1.5),),
    ),
    Scenario(
        "mutex_try_lock",
        "`try_lock(); unlock()` vs `acquire(False); release()`",
        (Contender("gosync.Mutex", single(_mutex_try)), Contender("threading.Lock", single(_lock_try))),
        baseline="threading.Lock",
        n=200_000,
    ),
    Scenario(
        "rlocker_with",
        "`with rw.rlocker(): pass`, uncontended",
        (
            Contender("gosync.RWMutex", single(_rlocker_with)),
            _LOCK_WITH,
            Contender("readerwriterlock", single(_rwlock_fair_with), "readerwriterlock", divisor=4),
            Contender("fasteners", single(_fasteners_with), "fasteners", divisor=4),
        ),
        baseline="threading.Lock",
        n=200_000,
        targets=(
            Target("threading.Lock", 1.5),
            Target("readerwriterlock", 8, "faster"),
            Target("fasteners", 5, "faster"),
        ),
    ),
    Scenario(
        "int64_add",
        "`Int64.add(1)` vs `with lock: x += 1`",
        (
            Contender("gosync.atomic", single(_int64_add)),
            Contender("threading.Lock", single(_locked_increment)),
            Contender("atomics", single(_atomics_fetch_add), "atomics", divisor=40),
            Contender("cereggii", single(_cereggii_increment), "cereggii"),
        ),
        baseline="threading.Lock",
        n=200_000,
        targets=(
            Target("threading.Lock", 1, "faster"),
            Target("atomics", 20, "faster"),
            Target("cereggii", 2.5),
        ),
    ),
    Scenario(
        "map_load",
        "`Map.load(k)` vs `with lock: d.get(k)`",
        (Contender("gosync.Map", single(_map_load)), Contender("threading.Lock", single(_dict_lock_get))),
        baseline="threading.Lock",
        n=200_000,
        targets=(Target("threading.Lock", 1.5, "faster"),),
    ),
    Scenario(
        "pool_get_put",
        "`Pool.get(); put()` of a 64 KiB bytearray vs allocating one",
        (Contender("gosync.Pool", single(_pool_get_put)), Contender("bytearray()", single(_allocate))),
        baseline="bytearray()",
        n=20_000,
        targets=(Target("bytearray()", 2, "faster"),),
    ),
    Scenario(
        "waitgroup_add_done",
        "`wg.add(1); wg.done()` vs `acquire(); release()`, `sem.release(); sem.acquire()`",
        (
            Contender("gosync.WaitGroup", single(_waitgroup_add_done)),
            Contender("threading.Lock", single(_lock_pair)),
            Contender("threading.Semaphore", single(_semaphore_release_acquire), divisor=4),
        ),
        baseline="threading.Lock",
        n=200_000,
        targets=(Target("threading.Lock", 1.5),),
    ),
    Scenario(
        "weighted_acquire_release",
        "`Weighted.acquire(1); release(1)` vs `Semaphore.acquire(); release()`, uncontended",
        (
            Contender("gosync.semaphore", single(_weighted_pair)),
            Contender("threading.Semaphore", single(_semaphore_acquire_release), divisor=4),
        ),
        baseline="threading.Semaphore",
        n=200_000,
        targets=(Target("threading.Semaphore", 5, "faster"),),
    ),
    Scenario(
        "once_done",
        "`once.do(f)` after the first call vs an empty method",
        (Contender("gosync.Once", single(_once_done)), Contender("method", single(_empty_method))),
        baseline="method",
        n=200_000,
        targets=(Target("method", 1.2),),
    ),
)
