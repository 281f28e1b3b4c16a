"""RWMutex: Go's rwmutex_test.go checks, misuse, timeouts and rlocker."""

from __future__ import annotations

import copy
import pickle
import threading
import time

import pytest
from conftest import STRESS, run_threads

import gosync
from gosync.rwmutex import RWMutexState

QUIET = RWMutexState(0, False, 0, False)


def test_parallel_readers() -> None:
    # Go's TestParallelReaders: N readers all hold rlock at the same time.
    rw = gosync.RWMutex()
    n = 8
    inside = threading.Barrier(n, timeout=10)

    def reader(i: int) -> None:
        assert rw.rlock()
        inside.wait()  # every reader holds the lock here, at once
        rw.runlock()

    run_threads(n, reader)
    assert rw._debug_state() == QUIET


@pytest.mark.stress
def test_hammer_rwmutex(fast_switching: None) -> None:
    # Go's HammerRWMutex: readers add 1 and must see 1..9999 (no writer);
    # writers add 10000 and must see exactly 10000 (alone).
    rw = gosync.RWMutex()
    activity = gosync.atomic.Int64()  # readers share the lock: the count must be atomic
    bad: list[str] = []
    iters = 100 * STRESS

    def writer() -> None:
        for _ in range(iters):
            with rw:
                n = activity.add(10000)
                if n != 10000:
                    bad.append(f"writer saw {n}")
                time.sleep(0)
                activity.add(-10000)

    def reader() -> None:
        for _ in range(iters * 5):
            with rw.rlocker():
                n = activity.add(1)
                if not 1 <= n <= 9999:
                    bad.append(f"reader saw {n}")
                time.sleep(0)
                activity.add(-1)

    run_threads(12, lambda i: writer() if i < 2 else reader())
    assert not bad, bad[:5]
    assert activity.load() == 0
    assert rw._debug_state() == QUIET


def test_pending_writer_blocks_new_readers() -> None:
    rw = gosync.RWMutex()
    rw.rlock()
    got_write = threading.Event()

    def writer() -> None:
        rw.lock()
        got_write.set()
        rw.unlock()

    w = threading.Thread(target=writer)
    w.start()
    deadline = time.monotonic() + 10
    while not rw._debug_state().writer:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    # A writer is pending: a new reader must not get in.
    assert not rw.try_rlock()
    assert rw.rlock(timeout=0.05) is False
    assert rw._debug_state().readers == 1
    assert not got_write.is_set()
    rw.runlock()
    w.join(10)
    assert got_write.is_set()
    assert rw._debug_state() == QUIET


def test_readers_blocked_by_a_writer_get_in_before_the_next_writer() -> None:
    rw = gosync.RWMutex()
    rw.lock()
    order: list[str] = []
    started = threading.Barrier(4, timeout=10)

    def reader(i: int) -> None:
        started.wait()
        rw.rlock()
        order.append("r")
        time.sleep(0.02)
        rw.runlock()

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for t in readers:
        t.start()
    started.wait()
    while rw._debug_state().readers < 3:
        time.sleep(0.001)
    rw.unlock()
    # The three readers were granted the lock by that unlock: a writer
    # arriving now waits for all of them.
    rw.lock()
    order.append("w")
    rw.unlock()
    for t in readers:
        t.join(10)
    assert order == ["r", "r", "r", "w"]


def test_try_lock_matrix() -> None:
    rw = gosync.RWMutex()
    assert rw.try_lock()
    assert not rw.try_lock() and not rw.try_rlock()
    rw.unlock()
    assert rw.try_rlock()
    assert rw.try_rlock()
    assert not rw.try_lock()
    rw.runlock()
    assert not rw.try_lock()
    rw.runlock()
    assert rw.try_lock()
    rw.unlock()
    assert rw._debug_state() == QUIET


def test_misuse_messages_change_nothing() -> None:
    rw = gosync.RWMutex()
    with pytest.raises(gosync.SyncError, match=r"^sync: RUnlock of unlocked RWMutex$"):
        rw.runlock()
    with pytest.raises(gosync.SyncError, match=r"^sync: Unlock of unlocked RWMutex$"):
        rw.unlock()
    assert rw._debug_state() == QUIET
    rw.rlock()
    with pytest.raises(gosync.SyncError, match=r"^sync: Unlock of unlocked RWMutex$"):
        rw.unlock()
    assert rw._debug_state() == RWMutexState(1, False, 0, False)
    rw.runlock()
    rw.lock()
    with pytest.raises(gosync.SyncError, match=r"^sync: RUnlock of unlocked RWMutex$"):
        rw.runlock()
    assert rw._debug_state() == RWMutexState(0, True, 0, True)
    rw.unlock()
    assert rw._debug_state() == QUIET


def test_writer_that_gives_up_restores_counts_and_releases_readers() -> None:
    rw = gosync.RWMutex()
    rw.rlock()
    blocked: list[bool] = []

    def late_reader() -> None:
        blocked.append(rw.rlock(timeout=10))

    def writer() -> None:
        assert rw.lock(timeout=0.3) is False

    w = threading.Thread(target=writer)
    w.start()
    while not rw._debug_state().writer:
        time.sleep(0.001)
    r = threading.Thread(target=late_reader)
    r.start()
    while rw._debug_state().readers < 2:
        time.sleep(0.001)
    w.join(10)
    r.join(10)
    # The writer gave up: the reader it blocked got the lock.
    assert blocked == [True]
    assert rw._debug_state() == RWMutexState(2, False, 0, False)
    rw.runlock()
    rw.runlock()
    assert rw._debug_state() == QUIET
    assert rw.lock(timeout=1)
    rw.unlock()


def test_reader_that_gives_up_leaves_no_count() -> None:
    rw = gosync.RWMutex()
    rw.lock()
    assert rw.rlock(timeout=0.02) is False
    assert rw.rlocker().acquire(timeout=0.01) is False
    assert rw._debug_state() == RWMutexState(0, True, 0, True)
    rw.unlock()
    assert rw._debug_state() == QUIET


@pytest.mark.stress
def test_timeouts_race_unlocks() -> None:
    # Writers (lock and acquire) and readers (rlock and rlocker().acquire)
    # with deadlines of 0 to 0.6 ms, so that giving up races the unlocks.
    # While they race, the activity count must show a writer alone and
    # readers never with a writer; afterwards the RWMutex must be idle and
    # both sides must lock again.
    rw = gosync.RWMutex()
    rl = rw.rlocker()
    activity = gosync.atomic.Int64()
    bad: list[str] = []
    counts = {"r": 0, "w": 0, "gave_up": 0}
    lock = threading.Lock()
    iters = 200 * STRESS

    def work(i: int) -> None:
        for k in range(iters):
            timeout = ((k + i) % 4) * 0.0002
            if i % 3 == 0:
                if rw.lock(timeout) if k % 2 else rw.acquire(timeout=timeout):
                    n = activity.add(10000)
                    if n != 10000:
                        bad.append(f"writer saw {n}")
                    # Held past the others' timeouts, so that some must give up.
                    time.sleep(0.001 if k % 2 else 0)
                    activity.add(-10000)
                    rw.unlock()
                    key = "w"
                else:
                    key = "gave_up"
            elif rw.rlock(timeout) if k % 2 else rl.acquire(timeout=timeout):
                n = activity.add(1)
                if not 1 <= n <= 9999:
                    bad.append(f"reader saw {n}")
                time.sleep(0)
                activity.add(-1)
                rw.runlock()
                key = "r"
            else:
                key = "gave_up"
            with lock:
                counts[key] += 1

    run_threads(9, work)
    assert not bad, bad[:5]
    assert sum(counts.values()) == 9 * iters
    assert counts["gave_up"] > 0, "nobody gave up: the test did not test"
    assert rw._debug_state() == QUIET
    assert rw.lock(timeout=1) and not rw.try_rlock()
    rw.unlock()
    assert rw.rlock(timeout=1) and rl.acquire(timeout=1) and not rw.try_lock()
    assert rw._debug_state() == RWMutexState(2, False, 0, False)
    rw.runlock()
    rl.release()
    assert rw._debug_state() == QUIET


def test_rlocker() -> None:
    rw = gosync.RWMutex()
    rl = rw.rlocker()
    assert isinstance(rl, gosync.Locker)
    assert rl.rwmutex is rw
    assert rl.lock() is True
    assert rl.acquire(False) is True
    assert rw._debug_state().readers == 2
    rl.unlock()
    rl.release()
    with rl:
        assert not rw.try_lock()
    assert rw._debug_state() == QUIET
    with pytest.raises(gosync.SyncError, match="RUnlock of unlocked"):
        rl.unlock()
    with pytest.raises(TypeError):
        gosync.rwmutex.RLocker(gosync.Mutex())  # type: ignore[arg-type]


def test_rlocker_lock_takes_rlocks_timeout() -> None:
    rw = gosync.RWMutex()
    rl = rw.rlocker()
    rw.lock()
    t0 = time.monotonic()
    assert rl.lock(timeout=0.02) is False
    assert time.monotonic() - t0 >= 0.02
    assert rl.lock(0) is False
    assert rw._debug_state() == RWMutexState(0, True, 0, True)  # nothing left behind
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(rl.lock(timeout=10)))
    t.start()
    deadline = time.monotonic() + 10
    while rw._debug_state().readers == 0 and time.monotonic() < deadline:
        time.sleep(0.001)  # until the reader waits behind the writer
    rw.unlock()
    t.join(10)
    assert got == [True]
    assert rl.lock(timeout=0) is True
    assert rw._debug_state() == RWMutexState(2, False, 0, False)
    rl.unlock()
    rl.unlock()
    assert rw._debug_state() == QUIET


@pytest.mark.parametrize("timeout", ["1", -0.5, float("nan"), float("inf")])
def test_bad_timeouts_change_nothing(timeout: object) -> None:
    rw = gosync.RWMutex()
    for call in (rw.lock, rw.rlock, rw.rlocker().lock, rw.rlocker().acquire):
        with pytest.raises((TypeError, ValueError, OverflowError)):
            call(timeout=timeout)  # type: ignore[operator]
    assert rw._debug_state() == QUIET


def test_with_and_acquire() -> None:
    rw = gosync.RWMutex()
    with rw as got:
        assert got is True
        assert not rw.try_rlock()
    assert rw.acquire(timeout=0.1) and not rw.acquire(False)
    rw.release()
    with pytest.raises(ValueError):
        rw.acquire(False, 1)
    assert rw._debug_state() == QUIET


@pytest.mark.parametrize("attempt", [copy.copy, copy.deepcopy, pickle.dumps])
def test_not_copyable(attempt) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        attempt(gosync.RWMutex())
    with pytest.raises(TypeError):
        attempt(gosync.RWMutex().rlocker())
