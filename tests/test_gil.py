"""The GIL policy (DESIGN section 3): fast paths keep the GIL, waits release it."""

from __future__ import annotations

import threading
import time

import gosync
from gosync._core import lib


def test_non_blocking_entry_points_keep_the_gil() -> None:
    # gosync_py_gil_held runs inside the same cffi-generated wrapper as every
    # non-blocking entry point (try_lock, unlock, the lock fast path). Plain
    # cffi releases the GIL in that wrapper, so this would be 0.
    assert lib.gosync_py_gil_held() == 1


def test_uncontended_lock_does_not_release_the_gil() -> None:
    # If an uncontended lock/unlock released the GIL, a busy thread would get
    # to run between them. With the GIL kept, a tight loop of lock/unlock in
    # this thread sees the other thread's counter advance only at the
    # interpreter's own switch points, far fewer than once per call.
    m = gosync.Mutex()
    stop = threading.Event()
    ticks = [0]

    def spinner() -> None:
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spinner, daemon=True)
    t.start()
    try:
        time.sleep(0.01)
        switches = 0
        calls = 20000
        for _ in range(calls):
            before = ticks[0]
            m.lock()
            m.unlock()
            if ticks[0] != before:
                switches += 1
    finally:
        stop.set()
        t.join(5)
    # With a 5 ms switch interval there are a handful of switches in this
    # loop; a GIL handoff on every call would make it ~calls.
    assert switches < calls // 20, switches


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
