"""Cond: Go's cond_test.go checks (signal, generations, broadcast, stealing)
and the Python-specific ones (timeouts, L of several kinds)."""

from __future__ import annotations

import copy
import pickle
import threading
import time

import pytest
from conftest import STRESS

import gosync
from gosync.cond import CondState


def wait_for_waiters(c: gosync.Cond, n: int) -> None:
    deadline = time.monotonic() + 10
    while c._debug_state().waiters < n:
        assert time.monotonic() < deadline, c._debug_state()
        time.sleep(0.001)


def test_signal_wakes_exactly_one() -> None:
    m = gosync.Mutex()
    c = gosync.Cond(m)
    woken: list[int] = []

    def waiter(i: int) -> None:
        with m:
            assert c.wait(10)
            woken.append(i)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    wait_for_waiters(c, 3)
    for expected in (1, 2, 3):
        c.signal()
        deadline = time.monotonic() + 10
        while len(woken) < expected:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        time.sleep(0.02)
        assert len(woken) == expected, "one signal woke more than one waiter"
    for t in threads:
        t.join(10)
    assert c._debug_state() == CondState(0, 0)


def test_signal_generations_wake_the_earliest_waiter() -> None:
    # Go's TestCondSignalGenerations, strengthened: all n waiters are asleep
    # before the first signal, and each signal must wake them in the order
    # they started waiting.
    m = gosync.Mutex()
    c = gosync.Cond(m)
    n = 20
    awake: list[int] = []

    def waiter(i: int) -> None:
        with m:
            assert c.wait(30)
            awake.append(i)

    threads = []
    for i in range(n):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        wait_for_waiters(c, i + 1)
        time.sleep(0.002)  # let it reach its sleep, so arrival order is kernel order
    for i in range(n):
        c.signal()
        deadline = time.monotonic() + 10
        while len(awake) <= i:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
    for t in threads:
        t.join(10)
    assert awake == list(range(n))


@pytest.mark.stress
def test_broadcast_wakes_every_waiter_once_per_round() -> None:
    # Go's TestCondBroadcast: 100 threads x 20 rounds.
    m = gosync.Mutex()
    c = gosync.Cond(m)
    n, rounds = 100, 10 * (1 + STRESS)
    running = gosync.WaitGroup()
    count = [0]
    woken = [[0] * rounds for _ in range(n)]
    exit_ = threading.Event()

    def waiter(i: int) -> None:
        for r in range(rounds):
            with m:
                running.done()
                while count[0] == r:
                    assert c.wait(30)
                woken[i][r] += 1

    for r in range(rounds):
        running.add(n)
        if r == 0:
            threads = [threading.Thread(target=waiter, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
        assert running.wait(30)
        with m:
            count[0] += 1
            c.broadcast()
    for t in threads:
        t.join(30)
    exit_.set()
    assert all(row == [1] * rounds for row in woken)
    assert c._debug_state() == CondState(0, 0)


def test_signal_stealing() -> None:
    # Go's TestCondSignalStealing: a waiter that starts waiting while a
    # broadcast is under way must not take the first waiter's wakeup.
    for _ in range(100):
        m = gosync.Mutex()
        c = gosync.Cond(m)
        first_woke = threading.Event()

        def first() -> None:
            with m:
                assert c.wait(10)
            first_woke.set()

        t1 = threading.Thread(target=first)
        t1.start()
        wait_for_waiters(c, 1)
        done = [False]

        def second() -> None:
            with m:
                while not done[0]:
                    c.wait(10)

        tb = threading.Thread(target=c.broadcast)
        t2 = threading.Thread(target=second)
        tb.start()
        t2.start()
        assert first_woke.wait(2), "first waiter didn't get the broadcast"
        with m:
            done[0] = True
        c.broadcast()
        for t in (t1, t2, tb):
            t.join(10)
        assert c._debug_state() == CondState(0, 0)


@pytest.mark.parametrize("kind", ["mutex", "rlocker", "threading"])
def test_wait_timeout_relocks_L(kind: str) -> None:
    if kind == "mutex":
        L: object = gosync.Mutex()
        held = L.locked  # type: ignore[attr-defined]
    elif kind == "rlocker":
        rw = gosync.RWMutex()
        L = rw.rlocker()
        held = lambda: rw._debug_state().readers == 1  # noqa: E731
    else:
        L = threading.Lock()
        held = L.locked  # type: ignore[attr-defined]
    c = gosync.Cond(L)
    assert c.L is L
    acquire = getattr(L, "lock", None) or L.acquire  # type: ignore[attr-defined]
    release = getattr(L, "unlock", None) or L.release  # type: ignore[attr-defined]
    acquire()
    t0 = time.monotonic()
    assert c.wait(timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.04
    assert held(), "L was not locked again after the timeout"
    release()
    assert c._debug_state() == CondState(0, 0)


def test_timed_out_waiters_do_not_swallow_signals() -> None:
    # A waiter that gives up in the middle of the list must not take a later
    # signal with it: the waiter behind it gets the signal.
    m = gosync.Mutex()
    c = gosync.Cond(m)
    result: dict[str, bool] = {}

    def waiter(name: str, timeout: float) -> None:
        with m:
            result[name] = c.wait(timeout)

    a = threading.Thread(target=waiter, args=("short", 0.05))
    a.start()
    wait_for_waiters(c, 1)
    b = threading.Thread(target=waiter, args=("long", 10))
    b.start()
    wait_for_waiters(c, 2)
    a.join(10)
    assert result == {"short": False}
    c.signal()
    b.join(10)
    assert result == {"short": False, "long": True}
    assert c._debug_state() == CondState(0, 0)


@pytest.mark.stress
def test_timeouts_race_notifications_and_none_is_lost_or_invented() -> None:
    # Each round a patient thread P waits (timeout 10 s) for a flag that
    # this thread sets before one signal(), while six bystanders keep
    # waiting on the same Cond with timeouts of 0.1 to 0.6 ms, so that their
    # timeouts race the notification. A bystander that is woken passes the
    # notification on with signal(), as a user must when a wakeup was not
    # meant for them. P is registered before the first signal and leaves
    # only with a notification, so every signal finds a waiter and makes
    # exactly one notification, and at most one is in flight. It must be
    # taken by exactly one wait() returning True: a timeout that swallowed
    # it would strand P (lost), and a True with none in flight is a spurious
    # wakeup. The last quarter of the rounds broadcast instead, with the
    # same race (there only P's wakeup is checked).
    m = gosync.Mutex()
    c = gosync.Cond(m)
    rounds = 100 * STRESS
    signal_rounds = rounds * 3 // 4
    st = {"flag": False, "p_waiting": False, "in_flight": 0, "broadcast": False}
    passed_on = [0]
    timeouts = [0] * 6
    errors: list[str] = []
    stop = threading.Event()
    p_woke = threading.Event()

    def patient() -> None:
        for r in range(rounds):
            with m:
                st["p_waiting"] = True
                if not c.wait(10):
                    errors.append(f"round {r}: the notification was lost")
                    return
                st["p_waiting"] = False
                if not st["flag"]:
                    errors.append(f"round {r}: P woke with nothing sent")
                elif not st["broadcast"]:
                    st["in_flight"] -= 1
                st["flag"] = False
            p_woke.set()

    def bystander(i: int) -> None:
        k = 0
        while not stop.is_set():
            k += 1
            with m:
                if not c.wait(0.0001 * (1 + (i + k) % 6)):
                    timeouts[i] += 1
                elif st["broadcast"]:
                    pass
                elif st["in_flight"] != 1:
                    errors.append(f"bystander {i} woke with nothing in flight")
                else:
                    passed_on[0] += 1
                    c.signal()

    threads = [threading.Thread(target=patient, daemon=True)]
    threads += [threading.Thread(target=bystander, args=(i,), daemon=True) for i in range(6)]
    for t in threads:
        t.start()
    try:
        for r in range(rounds):
            # Bystanders are at every point of their waits when it comes.
            time.sleep(0.0003 * (r % 4))
            deadline = time.monotonic() + 20
            while not errors:
                with m:
                    if st["p_waiting"] and not st["flag"]:
                        st["flag"] = True
                        if r < signal_rounds:
                            st["in_flight"] += 1
                            c.signal()
                        else:
                            st["broadcast"] = True
                            c.broadcast()
                        break
                assert time.monotonic() < deadline, "P never waited"
                time.sleep(0.0002)
            assert p_woke.wait(20), errors
            p_woke.clear()
            assert not errors, errors[:5]
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    assert not errors, errors[:5]
    assert not any(t.is_alive() for t in threads)
    assert st["in_flight"] == 0
    assert sum(timeouts) > 0, "no bystander timed out: the test did not test"
    assert passed_on[0] > 0, "no bystander ever took a notification: the test did not test"
    assert c._debug_state() == CondState(0, 0)
    # Still a Cond: a new waiter gets a signal.
    got: list[bool] = []

    def last() -> None:
        with m:
            got.append(c.wait(10))

    t = threading.Thread(target=last)
    t.start()
    wait_for_waiters(c, 1)
    c.signal()
    t.join(10)
    assert got == [True]


def test_wait_without_holding_L_raises_and_changes_nothing() -> None:
    m = gosync.Mutex()
    c = gosync.Cond(m)
    with pytest.raises(gosync.SyncError, match="unlock of unlocked mutex"):
        c.wait(1)
    assert c._debug_state() == CondState(0, 0)
    assert not m.locked()


@pytest.mark.parametrize("timeout", ["1", -1, float("nan")])
def test_bad_timeout_touches_nothing(timeout: object) -> None:
    m = gosync.Mutex()
    c = gosync.Cond(m)
    with m:
        with pytest.raises((TypeError, ValueError)):
            c.wait(timeout)  # type: ignore[arg-type]
        assert m.locked()
    assert c._debug_state() == CondState(0, 0)


def test_bad_locker() -> None:
    with pytest.raises(TypeError):
        gosync.Cond(object())


def test_signal_and_broadcast_with_nobody_waiting() -> None:
    c = gosync.Cond(gosync.Mutex())
    c.signal()
    c.broadcast()
    assert c._debug_state() == CondState(0, 0)


@pytest.mark.parametrize("attempt", [copy.copy, copy.deepcopy, pickle.dumps])
def test_not_copyable(attempt) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        attempt(gosync.Cond(gosync.Mutex()))
