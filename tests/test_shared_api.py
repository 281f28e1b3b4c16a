"""gosync.shared's primitives have the in-process classes' API, messages
and timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import shared_workers as w

import gosync
import gosync.shared as shared


@pytest.fixture
def procs() -> Iterator[w.Procs]:
    p = w.Procs("fork")
    try:
        yield p
    finally:
        p.cleanup()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["Mutex", "RWMutex"])
def test_timeouts_against_a_live_holder(procs: w.Procs, kind: str) -> None:
    m = getattr(shared, kind)()
    held = shared.atomic.Bool()
    procs.start(w.hold_and_sleep, m, "lock", held)
    w.wait_until(held.load)
    t0 = time.monotonic()
    assert m.lock(0.05) is False
    assert m.acquire(timeout=0.05) is False
    assert m.acquire(False) is False
    assert m.try_lock() is False
    if kind == "RWMutex":
        assert m.rlock(0.05) is False
        assert m.try_rlock() is False
        assert m.rlocker().lock(0.05) is False
    assert time.monotonic() - t0 < 10
    assert m.locked() if kind == "Mutex" else m._debug_state().writer


@pytest.mark.parametrize("kind", ["Mutex", "RWMutex"])
def test_bad_timeouts_raise_before_anything_changes(kind: str) -> None:
    m = getattr(shared, kind)()
    for bad, exc in [("1", TypeError), (-1.5, ValueError), (float("nan"), ValueError), (1e300, OverflowError)]:
        with pytest.raises(exc):
            m.lock(bad)
    with pytest.raises(TypeError):
        m.acquire(timeout=None)
    with pytest.raises(ValueError):
        m.acquire(False, 1)
    assert m.try_lock()
    m.unlock()


def test_misuse_messages() -> None:
    rw = shared.RWMutex()
    with pytest.raises(gosync.SyncError, match="^sync: Unlock of unlocked RWMutex$"):
        rw.unlock()
    with pytest.raises(gosync.SyncError, match="^sync: RUnlock of unlocked RWMutex$"):
        rw.runlock()
    wg = shared.WaitGroup()
    with pytest.raises(gosync.SyncError, match="^sync: negative WaitGroup counter$"):
        wg.done()
    with pytest.raises(gosync.SyncError, match="^sync: unlock of unlocked mutex$"):
        shared.Mutex().unlock()
    with pytest.raises(TypeError):
        shared.Once().do(3)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        shared.atomic.Int32().store(2**31)
    with pytest.raises(TypeError):
        shared.atomic.Bool().store(1)  # type: ignore[arg-type]


def test_locks_work_between_threads_of_one_process() -> None:
    m, n = shared.Mutex(), [0]

    def work() -> None:
        for _ in range(2000):
            with m:
                v = n[0]
                time.sleep(0) if v % 97 == 0 else None
                n[0] = v + 1

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert n[0] == 8000


def test_isinstance_and_repr() -> None:
    assert isinstance(shared.WaitGroup(), gosync.WaitGroup)
    assert isinstance(shared.atomic.Int64(), gosync.atomic.Int64)
    assert repr(shared.atomic.Uint64(7)) == "<gosync.shared.atomic.Uint64 7>"
    assert repr(shared.Mutex()) == "<gosync.shared.Mutex unlocked>"
    assert issubclass(shared.OwnerDied, gosync.SyncError)
