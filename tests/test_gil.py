"""The GIL policy (docs/DESIGN.md, "The GIL policy"): fast paths keep the GIL,
waits release it."""

from __future__ import annotations

import gc
import threading
import time
from functools import partial
from typing import Callable

import pytest

import gosync
from gosync._testing import gil_held
from conftest import PYPY_GIL, pypy_cannot, switches_during

pytestmark = pypy_cannot(PYPY_GIL)


def test_non_blocking_entry_points_keep_the_gil() -> None:
    # The probe runs inside a cffi-generated wrapper like every function of
    # _cdef.h, after the glue of _binding.c. Plain cffi releases the GIL in
    # that wrapper, so this would be False.
    assert gil_held()


def _rwmutex_pair(make_read: bool) -> tuple[Callable[[], object], Callable[[], object]]:
    rw = gosync.RWMutex()
    if make_read:
        rl = rw.rlocker()
        return rl.__enter__, rl.unlock
    return rw.__enter__, rw.unlock


def _chan_pair() -> tuple[Callable[[], object], Callable[[], object]]:
    ch = gosync.Chan(1)
    return partial(ch.send, 1), ch.recv


def _select_pair() -> tuple[Callable[[], object], Callable[[], object]]:
    a, b = gosync.Chan(1), gosync.Chan(1)
    return partial(gosync.select, (a.send, 1), None, (b.send, 2)), partial(gosync.select, a.recv, b.recv)


def _waitgroup_pair() -> tuple[Callable[[], object], Callable[[], object]]:
    wg = gosync.WaitGroup()
    return partial(wg.add, 1), wg.done


# Pairs of (fast call, its undo) on fresh, uncontended primitives; `int` is
# a no-op undo implemented in C (a lambda would be a switch point). Python
# methods (Mutex.lock, RWMutex.rlock) are switch points like any Python
# function; their C parts are the calls below.
FAST_PAIRS: dict[str, Callable[[], tuple[Callable[[], object], Callable[[], object]]]] = {
    "RWMutex.__enter__": lambda: _rwmutex_pair(False),
    "RLocker.__enter__": lambda: _rwmutex_pair(True),
    "RWMutex.try_rlock": lambda: (lambda rw: (rw.try_rlock, rw.runlock))(gosync.RWMutex()),
    "WaitGroup.add": _waitgroup_pair,
    "WaitGroup._wait_until at zero": lambda: (partial(gosync.WaitGroup()._wait_until, -1), int),
    "Cond.signal": lambda: (gosync.Cond(gosync.Mutex()).signal, int),
    "Chan.send, recv (buffered, ready)": _chan_pair,
    "Chan.send, timeout=0, not ready": lambda: (partial(gosync.Chan().send, 1, timeout=0), int),
    "Weighted.acquire": lambda: (lambda w: (w.acquire, w.release))(gosync.semaphore.Weighted(1)),
    "Weighted.try_acquire": lambda: (lambda w: (partial(w.try_acquire, 1), w.release))(gosync.semaphore.Weighted(1)),
}


@pytest.mark.parametrize("name", sorted(FAST_PAIRS))
def test_other_fast_paths_keep_the_gil(name: str, fast_switching: None) -> None:
    pairs = [FAST_PAIRS[name]() for _ in range(5000)]
    moved = switches_during([op for op, _ in pairs] + [undo for _, undo in pairs])
    assert moved == 0, f"the GIL changed hands ({moved} ticks)"


def test_select_fast_paths_keep_the_gil(fast_switching: None) -> None:
    # select returns a new tuple: the collections that allocations start
    # would run gc.callbacks (Pool's, in Python), a switch point that is not
    # select's, so the collector is off while the calls run.
    pairs = [_select_pair() for _ in range(5000)]
    empty = gosync.Chan()
    calls = [op for op, _ in pairs] + [undo for _, undo in pairs]
    calls += [partial(gosync.select, empty.recv, None, block=False)] * 1000
    calls += [partial(gosync.select, (empty.send, 1), timeout=0)] * 1000
    gc.disable()
    try:
        moved = switches_during(calls)
    finally:
        gc.enable()
    assert moved == 0, f"the GIL changed hands ({moved} ticks)"


# Mutex.lock() itself is a Python method, a switch point like any Python
# function; its C part is __enter__.
@pytest.mark.parametrize("op", ["__enter__", "try_lock", "locked"])
def test_uncontended_fast_paths_keep_the_gil(op: str, fast_switching: None) -> None:
    # The operation on 20000 uncontended mutexes, then their unlocks.
    mutexes = [gosync.Mutex() for _ in range(20000)]
    calls: list[Callable[[], object]] = [getattr(m, op) for m in mutexes]
    if op != "locked":
        calls += [m.unlock for m in mutexes]
    moved = switches_during(calls)
    assert moved == 0, f"the GIL changed hands during the calls ({moved} ticks)"
    assert not any(m.locked() for m in mutexes)


def test_the_gil_probe_sees_a_release(fast_switching: None) -> None:
    # The control for the probe: 1 ms sleeps release the GIL for long enough
    # that the spinner must run.
    assert switches_during([partial(time.sleep, 0.001)] * 20) > 0


def test_blocked_lock_lets_other_threads_run_python() -> None:
    m = gosync.Mutex()
    m.lock()
    result: list[bool] = []
    started = threading.Event()

    def waiter() -> None:
        started.set()
        result.append(m.lock(timeout=1.0))

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    started.wait(5)
    time.sleep(0.05)  # the waiter is now blocked inside lock()
    # This thread must keep running Python while the waiter waits: a waiter
    # holding the GIL would freeze this loop until its timeout.
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.2:
        n += 1
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5, f"main thread was frozen for {elapsed:.3f}s"
    assert n > 1000
    assert t.is_alive(), "the waiter should still be blocked"
    m.unlock()
    t.join(5)
    assert result == [True]
    m.unlock()
