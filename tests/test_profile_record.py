"""The binding's contention hooks (gosync/_binding_profile.c, csrc/profile.h):
what an unlock charges to the mutex profile, and what the call into the
profile's Python callable may do. These drive the private hooks directly:
the public gosync.profile is not built yet."""

from __future__ import annotations

import signal
import threading
import time
from typing import Iterator, List, Tuple

import pytest

import gosync
from gosync import _gosync

Event = Tuple[int, object, int, float]


def no_label(*args: object) -> None:
    return None


def lock_unlock(m: gosync.Mutex) -> None:
    m.lock()
    m.unlock()


@pytest.fixture
def events() -> Iterator[List[Event]]:
    """Every mutex event, unsampled (fraction 1), into a list; off after."""
    got: List[Event] = []
    old_rates = _gosync._profile_rates()

    def on_event(kind: int, owner: object, delay_ns: int, weight: float) -> None:
        got.append((kind, owner, delay_ns, weight))

    previous = _gosync._profile_hooks(on_event, no_label)
    _gosync._profile_set(0, 1)
    try:
        yield got
    finally:
        _gosync._profile_set(*old_rates)
        # Where _profile_hooks returns the pair it replaced, gosync.profile's
        # own callables are put back.
        if isinstance(previous, tuple) and all(callable(f) for f in previous):
            _gosync._profile_hooks(*previous)


@pytest.mark.timeout(30)
def test_a_waiter_that_gives_up_takes_its_wait_out_of_the_next_charge(events: List[Event]) -> None:
    # W1 waits with a timeout and gives up; W2 comes while W1 still waits
    # and is still waiting when the holder unlocks. The unlock is charged
    # W2's wait, not the time since W1 came.
    m = gosync.Mutex()
    m.lock()
    t0 = time.monotonic()
    w1_done = threading.Event()
    w2_start: List[float] = []

    def w1() -> None:
        assert not m.lock(timeout=0.6)
        w1_done.set()

    def w2() -> None:
        w2_start.append(time.monotonic())
        lock_unlock(m)

    t1 = threading.Thread(target=w1)
    t1.start()
    time.sleep(0.3)
    t2 = threading.Thread(target=w2)
    t2.start()
    assert w1_done.wait(10)
    time.sleep(0.1)
    unlocked = time.monotonic()
    m.unlock()
    t1.join(10)
    t2.join(10)
    assert w2_start[0] < t0 + 0.55, "W2 came after W1 gave up: the run does not test the case"
    charged = [e for e in events if e[0] == 1 and e[1] is m]
    assert len(charged) == 1
    waited = unlocked - w2_start[0]
    assert charged[0][2] / 1e9 <= waited + 0.05, (charged[0][2] / 1e9, waited)


@pytest.mark.timeout(30)
def test_an_event_inside_the_profiles_callable_is_not_recorded_again(events: List[Event]) -> None:
    # The callable runs with the GIL inside the unlock. An event that code
    # run from it makes (here an unlock with a waiter, as a finalizer or a
    # signal handler could) must not call it again on the same thread: its
    # store's threading.Lock would then deadlock against itself.
    m1, m2 = gosync.Mutex(), gosync.Mutex()
    depth = [0, 0]  # now, deepest
    _gosync_on_event_calls: List[object] = []

    def on_event(kind: int, owner: object, delay_ns: int, weight: float) -> None:
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        _gosync_on_event_calls.append(owner)
        try:
            if owner is m1:
                m2.unlock()  # m2 has a timed waiter: this unlock is charged
        finally:
            depth[0] -= 1

    _gosync._profile_hooks(on_event, no_label)
    m1.lock()
    m2.lock()
    waiters = [threading.Thread(target=lock_unlock, args=(m,)) for m in (m1, m2)]
    for t in waiters:
        t.start()
    time.sleep(0.3)  # both registered in their locks' records
    m1.unlock()
    for t in waiters:
        t.join(10)
    assert not any(t.is_alive() for t in waiters)
    assert depth[1] == 1, _gosync_on_event_calls
    assert _gosync_on_event_calls[0] is m1


@pytest.mark.timeout(30)
def test_ctrl_c_during_the_profiles_callable_is_not_lost(events: List[Event]) -> None:
    # Ctrl-C whose handler runs inside the callable (it runs Python, in the
    # main thread, inside the unlock) reaches the program once the unlock
    # has returned, with the lock released: not swallowed as unraisable.
    m = gosync.Mutex()

    def on_event(kind: int, owner: object, delay_ns: int, weight: float) -> None:
        signal.raise_signal(signal.SIGINT)
        for _ in range(1000):  # the handler runs here and raises
            pass

    _gosync._profile_hooks(on_event, no_label)
    m.lock()
    w = threading.Thread(target=lock_unlock, args=(m,))
    w.start()
    time.sleep(0.3)  # registered in m's record
    interrupted = False
    try:
        m.unlock()
        for _ in range(100_000):
            pass
    except KeyboardInterrupt:
        interrupted = True
    w.join(10)
    assert not w.is_alive()
    assert interrupted


@pytest.mark.timeout(30)
def test_a_cond_waiters_relock_is_charged_to_the_mutexs_unlocker(events: List[Event]) -> None:
    # Cond.wait locks L again once notified, as Go's c.L.Lock(): a relock
    # that waits for the notifier's unlock is that unlock's contention.
    m = gosync.Mutex()
    c = gosync.Cond(m)
    ready = threading.Event()

    def waiter() -> None:
        with m:
            ready.set()
            c.wait()

    w = threading.Thread(target=waiter)
    w.start()
    assert ready.wait(10)
    with m:  # the waiter is in c.wait, m released
        c.signal()
        time.sleep(0.3)  # the waiter, notified, waits for m
    w.join(10)
    assert not w.is_alive()
    charged = [e for e in events if e[0] == 1 and e[1] is m]
    assert len(charged) == 1, events
    assert 0.2 <= charged[0][2] / 1e9 <= 5, charged


def _lock_in_child(m: object) -> None:
    m.lock()  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_a_waiter_killed_in_a_shared_mutex_is_not_charged_for_ever(events: List[Event]) -> None:
    # A process killed while registered in a shared Mutex's record stays in
    # its count. Once the lock's own word shows no waiter, an unlock drops
    # the record, so that later uncontended unlocks are charged nothing.
    import multiprocessing
    import os

    from gosync import shared

    arena = shared.Arena(size=1 << 16)
    m = arena.Mutex()
    m.lock()
    child = multiprocessing.get_context("fork").Process(target=_lock_in_child, args=(m,))
    child.start()
    try:
        time.sleep(0.5)  # registered and asleep (the child inherited the rates)
    finally:
        if child.pid is not None:
            os.kill(child.pid, signal.SIGKILL)
        child.join(10)
    m.unlock()  # charged the child's wait: it did wait
    events.clear()
    for _ in range(3):
        time.sleep(0.2)
        m.lock()  # nobody waits: uncontended
        m.unlock()
    assert [e for e in events if e[0] == 1] == []


@pytest.mark.timeout(60)
def test_a_lock_placed_off_a_slot_is_never_timed_and_writes_nothing_before_its_state(events: List[Event]) -> None:
    # Only a lock at the start of a slot (or the directory lock) has a record,
    # 48 bytes before its state; one placed anywhere else through the private
    # Mapping.at must not take the bytes before it for one.
    from gosync import shared
    from gosync._gosync import SharedMutexBase

    arena = shared.Arena(size=1 << 16)
    mapping = arena._mapping
    offset = 8192  # inside the arena's directory
    before = mapping.read(offset - 64, 64)
    m = mapping.at(SharedMutexBase, offset, True)
    m.lock()
    t = threading.Thread(target=lambda: (m.lock(), m.unlock()))
    t.start()
    deadline = time.monotonic() + 10
    while not m._debug_fields()[1]:  # the waiter's WAITERS bit
        assert time.monotonic() < deadline
        time.sleep(0.001)
    time.sleep(0.05)
    m.unlock()
    t.join(10)
    assert mapping.read(offset - 64, 64) == before
    assert [e for e in events if e[1] is m] == []
