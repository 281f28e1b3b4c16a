"""WaitGroup: Go's waitgroup_test.go checks, misuse, go() and timeouts."""

from __future__ import annotations

import copy
import pickle
import threading
import time

import pytest
from conftest import STRESS, run_threads

import gosync
from gosync.waitgroup import WaitGroupState


def test_two_waitgroup_barrier() -> None:
    # Go's testWaitGroup: 16 threads meet at wg1, the test releases them
    # through wg2, and waits for all of them; 8 rounds on the same groups.
    wg1, wg2 = gosync.WaitGroup(), gosync.WaitGroup()
    n = 16
    for _ in range(8):
        wg1.add(n)
        wg2.add(n)
        exited = threading.Event()
        arrived = [0]
        lock = threading.Lock()

        def worker() -> None:
            with lock:
                arrived[0] += 1
            wg1.done()
            assert wg2.wait(10)
            exited.set()

        threads = [threading.Thread(target=worker) for _ in range(n)]
        for t in threads:
            t.start()
        assert wg1.wait(10)
        assert arrived[0] == n
        for _ in range(n):
            assert not exited.is_set(), "a worker passed wg2.wait() too soon"
            wg2.done()
        for t in threads:
            t.join(10)
        assert exited.is_set()
        assert wg1._debug_state() == WaitGroupState(0, 0)
        assert wg2._debug_state() == WaitGroupState(0, 0)


def test_negative_counter_is_misuse_and_changes_nothing() -> None:
    wg = gosync.WaitGroup()
    with pytest.raises(gosync.SyncError, match=r"^sync: negative WaitGroup counter$"):
        wg.done()
    wg.add(2)
    with pytest.raises(gosync.SyncError, match=r"^sync: negative WaitGroup counter$"):
        wg.add(-3)
    assert wg._debug_state() == WaitGroupState(2, 0)
    wg.add(-2)
    assert wg.wait(0) is True


@pytest.mark.parametrize("delta, error", [(1.0, TypeError), ("1", TypeError), (None, TypeError), (2**31, OverflowError), (2**70, OverflowError)])
def test_bad_delta(delta: object, error: type) -> None:
    wg = gosync.WaitGroup()
    with pytest.raises(error):
        wg.add(delta)  # type: ignore[arg-type]
    assert wg._debug_state() == WaitGroupState(0, 0)
    with pytest.raises(gosync.SyncError):
        wg.add(-(2**70))
    wg.add(1)
    wg.done()


def test_go_runs_fn_and_calls_done_even_when_it_raises() -> None:
    wg = gosync.WaitGroup()
    results: list[int] = []
    seen: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)  # type: ignore[assignment,return-value]
    try:
        t1 = wg.go(results.append, 1)
        t2 = wg.go(lambda *, x: results.append(x), x=2)

        def boom() -> None:
            raise KeyError("boom")

        t3 = wg.go(boom)
        assert isinstance(t1, threading.Thread)
        assert wg.wait(10)
        for t in (t1, t2, t3):
            t.join(10)
    finally:
        threading.excepthook = old_hook
    assert sorted(results) == [1, 2]
    assert len(seen) == 1 and isinstance(seen[0], KeyError)
    assert wg._debug_state() == WaitGroupState(0, 0)
    with pytest.raises(TypeError):
        wg.go(42)  # type: ignore[arg-type]
    assert wg._debug_state() == WaitGroupState(0, 0)


def test_wait_timeout_leaves_the_group_reusable() -> None:
    wg = gosync.WaitGroup()
    wg.add(1)
    assert wg.wait(timeout=0.02) is False
    assert wg._debug_state() == WaitGroupState(1, 0)
    done = threading.Timer(0.05, wg.done)
    done.start()
    assert wg.wait(timeout=10) is True
    done.join()
    wg.add(1)
    wg.done()
    assert wg.wait(0) is True


@pytest.mark.stress
def test_timeouts_race_the_release() -> None:
    # One group, reused round after round (allowed: every Wait of a round
    # has returned before the next add). Four workers finish at staggered
    # times; six waiters wait, three with wait() and three polling with
    # 0.3 ms timeouts, so that timeouts race the release. No waiter may
    # return before the fourth done(), and each round ends idle.
    wg = gosync.WaitGroup()
    lock = threading.Lock()
    timeouts = [0]
    for _ in range(30 * STRESS):
        wg.add(4)
        finished = [0]
        early: list[int] = []

        def work(i: int) -> None:
            if i < 4:
                time.sleep(0.001 * i)
                with lock:
                    finished[0] += 1
                wg.done()
                return
            if i % 2:
                assert wg.wait() is True
            else:
                while not wg.wait(timeout=0.0003):
                    with lock:
                        timeouts[0] += 1
            with lock:
                if finished[0] != 4:
                    early.append(finished[0])

        run_threads(10, work)
        assert not early
        assert wg._debug_state() == WaitGroupState(0, 0)
    assert timeouts[0] > 0, "no wait timed out: the test did not test"


@pytest.mark.stress
def test_concurrent_adds_and_dones_keep_an_exact_counter(fast_switching: None) -> None:
    # Eight threads add and done at once while the counter stays above zero
    # (this thread holds one count), so no add races a Wait from zero, as
    # Go requires. Each thread's net change is zero: the counter must end
    # at exactly 1, the two waiters must stay blocked until the last done()
    # and then both return.
    wg = gosync.WaitGroup()
    wg.add(1)
    returned = threading.Event()
    waiters = [threading.Thread(target=lambda: (wg.wait(), returned.set()), daemon=True) for _ in range(2)]
    for t in waiters:
        t.start()
    deadline = time.monotonic() + 10
    while wg._debug_state().waiters < 2:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    iters = 10_000 * STRESS

    def work(i: int) -> None:
        for k in range(iters):
            wg.add(3)
            wg.done()
            if k % 64 == 0:
                time.sleep(0)
            wg.add(-2)

    run_threads(8, work)
    assert not returned.is_set(), "a waiter returned while the counter was above zero"
    assert wg._debug_state() == WaitGroupState(1, 2)
    wg.done()
    for t in waiters:
        t.join(10)
        assert not t.is_alive()
    assert wg._debug_state() == WaitGroupState(0, 0)


@pytest.mark.parametrize("timeout", ["1", -1, float("nan")])
def test_bad_timeout(timeout: object) -> None:
    wg = gosync.WaitGroup()
    wg.add(1)
    with pytest.raises((TypeError, ValueError)):
        wg.wait(timeout)  # type: ignore[arg-type]
    assert wg._debug_state() == WaitGroupState(1, 0)


@pytest.mark.parametrize("attempt", [copy.copy, copy.deepcopy, pickle.dumps])
def test_not_copyable(attempt) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        attempt(gosync.WaitGroup())


def test_reuse_before_previous_wait_returned_is_reported_to_that_waiter() -> None:
    # Go's TestWaitGroupMisuse3 in spirit: release a waiter and reuse the
    # group at once. The waiter needs tens of microseconds to wake, so the
    # new add(1) almost always lands first; it then sees Go's misuse.
    for _attempt in range(200):
        wg = gosync.WaitGroup()
        wg.add(1)
        errors: list[BaseException] = []

        def waiter() -> None:
            try:
                wg.wait()
            except gosync.SyncError as e:
                errors.append(e)

        t = threading.Thread(target=waiter)
        t.start()
        while wg._debug_state().waiters == 0:
            time.sleep(0.0005)
        time.sleep(0.005)  # registered; now surely asleep in the kernel
        wg.done()
        wg.add(1)
        t.join(10)
        assert not t.is_alive()
        wg.done()  # the group stays usable
        assert wg.wait(0) is True
        if errors:
            assert str(errors[0]) == "sync: WaitGroup is reused before previous Wait has returned"
            return
    pytest.fail("the reuse misuse was never reported")
