"""Mutex: API, bad input, misuse, and the threading.Lock protocol."""

from __future__ import annotations

import copy
import math
import pickle
import threading
from fractions import Fraction

import pytest

import gosync
from gosync.mutex import MutexState

QUIET = MutexState(False, False, False, 0, 0, 0)


def test_lock_unlock() -> None:
    m = gosync.Mutex()
    assert not m.locked()
    assert m.lock() is True
    assert m.locked()
    assert m._debug_state().locked
    m.unlock()
    assert m._debug_state() == QUIET


def test_try_lock() -> None:
    m = gosync.Mutex()
    assert m.try_lock() is True
    assert m.try_lock() is False
    m.unlock()
    assert m.try_lock() is True
    m.unlock()


def test_lock_timeout_expires_and_leaves_no_trace() -> None:
    m = gosync.Mutex()
    m.lock()
    assert m.lock(timeout=0.02) is False
    assert m.lock(timeout=0) is False
    assert m.acquire(timeout=0.01) is False
    assert m._debug_state() == MutexState(True, False, False, 0, 0, 0)
    m.unlock()
    assert m._debug_state() == QUIET


@pytest.mark.parametrize("timeout", [0.5, 1, Fraction(1, 2), True])
def test_lock_accepts_real_timeouts(timeout: object) -> None:
    m = gosync.Mutex()
    assert m.lock(timeout) is True  # type: ignore[arg-type]
    m.unlock()


@pytest.mark.parametrize(
    "timeout, error",
    [
        ("1", TypeError),
        (b"1", TypeError),
        ([], TypeError),
        (1j, TypeError),
        (-0.001, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        (math.inf, OverflowError),
        (1e300, OverflowError),
    ],
)
def test_bad_timeout_raises_before_anything_changes(timeout: object, error: type) -> None:
    m = gosync.Mutex()
    with pytest.raises(error):
        m.lock(timeout)  # type: ignore[arg-type]
    assert m._debug_state() == QUIET
    m.lock()
    # Also when the mutex is held: the error comes before any queueing.
    with pytest.raises(error):
        m.lock(timeout)  # type: ignore[arg-type]
    assert m._debug_state() == MutexState(True, False, False, 0, 0, 0)
    m.unlock()
    assert m.try_lock()
    m.unlock()


def test_unlock_of_unlocked_mutex_is_misuse_and_changes_nothing() -> None:
    m = gosync.Mutex()
    for unlock in (m.unlock, m.release, lambda: m.__exit__(None, None, None)):
        with pytest.raises(gosync.SyncError, match=r"^sync: unlock of unlocked mutex$"):
            unlock()
        assert m._debug_state() == QUIET
    assert issubclass(gosync.SyncError, RuntimeError)
    with m:
        assert m.locked()
    assert m._debug_state() == QUIET


def test_unlock_from_another_thread_is_allowed() -> None:
    # As in Go, a Mutex is not tied to the thread that locked it.
    m = gosync.Mutex()
    m.lock()
    t = threading.Thread(target=m.unlock)
    t.start()
    t.join(10)
    assert not m.locked()


def test_acquire_is_threading_compatible() -> None:
    m = gosync.Mutex()
    assert m.acquire() is True
    assert m.acquire(False) is False
    assert m.acquire(blocking=False) is False
    assert m.acquire(True, 0.01) is False
    m.release()
    assert m.acquire(blocking=False) is True
    m.release()
    with pytest.raises(ValueError, match="non-blocking"):
        m.acquire(False, 1)
    with pytest.raises(ValueError):
        m.acquire(timeout=-2)
    with pytest.raises(TypeError):
        m.acquire(timeout="x")  # type: ignore[arg-type]
    assert m._debug_state() == QUIET


def test_with_statement() -> None:
    m = gosync.Mutex()
    with m as got:
        assert got is True
        assert m.locked()
    assert not m.locked()
    with pytest.raises(KeyError):
        with m:
            raise KeyError("x")
    assert m._debug_state() == QUIET


def test_threading_condition_over_mutex() -> None:
    m = gosync.Mutex()
    cond = threading.Condition(m)
    items: list[int] = []

    def producer() -> None:
        for i in range(100):
            with cond:
                items.append(i)
                cond.notify()

    t = threading.Thread(target=producer)
    with cond:
        t.start()
        while len(items) < 100:
            assert cond.wait(10), "notify lost"
        assert cond.wait_for(lambda: len(items) == 100, timeout=10)
    t.join(10)
    assert items == list(range(100))
    assert m._debug_state() == QUIET


def test_locker_protocol() -> None:
    assert isinstance(gosync.Mutex(), gosync.Locker)
    assert not isinstance(threading.Lock(), gosync.Locker)


@pytest.mark.parametrize(
    "attempt",
    [copy.copy, copy.deepcopy, pickle.dumps, lambda m: pickle.dumps(m, protocol=0)],
)
def test_not_copyable(attempt) -> None:  # type: ignore[no-untyped-def]
    m = gosync.Mutex()
    m.lock()
    with pytest.raises(TypeError, match="must not be copied"):
        attempt(m)
    m.unlock()
    assert m._debug_state() == QUIET


def test_repr() -> None:
    m = gosync.Mutex()
    assert repr(m) == "<gosync.Mutex unlocked waiters=0>"
    m.lock()
    assert repr(m) == "<gosync.Mutex locked waiters=0>"
    m.unlock()


def test_weakref_and_gc() -> None:
    import gc
    import weakref

    m = gosync.Mutex()
    r = weakref.ref(m)
    del m
    gc.collect()
    assert r() is None
