"""gosync.shared's locks when their holder dies: OwnerDied in every acquire
form, mark_consistent, "not recoverable", blocked waiters, dead readers and
writers, and Ctrl-C during a blocked shared lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import shared_workers as w

import gosync
import gosync.shared as shared
from gosync.shared import OwnerDied
from conftest import CHILD_CWD


@pytest.fixture
def procs() -> Iterator[w.Procs]:
    p = w.Procs("fork")
    try:
        yield p
    finally:
        p.cleanup()


def _killed_holder(procs: w.Procs, lock: Any, form: str = "lock") -> None:
    """A child takes lock and is SIGKILLed holding it (and reaped)."""
    held = shared.atomic.Bool()
    p = procs.start(w.hold_and_sleep, lock, form, held)
    w.wait_until(held.load)
    p.kill()
    p.join(10)
    assert p.exitcode == -signal.SIGKILL


def _with(m: Any) -> None:
    with m:
        raise AssertionError("the body of with must not run when __enter__ raises")


FORMS: dict[str, Callable[[Any], object]] = {
    "lock": lambda m: m.lock(),
    "lock(timeout)": lambda m: m.lock(5),
    "acquire": lambda m: m.acquire(),
    "acquire(timeout)": lambda m: m.acquire(timeout=5),
    "with": _with,
    "try_lock": lambda m: m.try_lock(),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("kind", ["Mutex", "RWMutex"])
def test_owner_died_in_every_form(procs: w.Procs, form: str, kind: str) -> None:
    m = getattr(shared, kind)()
    _killed_holder(procs, m)
    with pytest.raises(OwnerDied):
        FORMS[form](m)
    assert isinstance(OwnerDied("x"), gosync.SyncError)
    # Held now: nobody else gets it until repaired and unlocked.
    assert not m.try_lock()
    m.mark_consistent()
    m.unlock()
    assert m.lock(5) is True  # a plain lock again
    m.unlock()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["Mutex", "RWMutex"])
def test_unlock_without_mark_consistent_is_not_recoverable(procs: w.Procs, kind: str) -> None:
    m = getattr(shared, kind)()
    _killed_holder(procs, m)
    with pytest.raises(OwnerDied):
        m.lock()
    m.unlock()
    for form in FORMS.values():
        with pytest.raises(gosync.SyncError, match="^sync: mutex not recoverable$") as e:
            form(m)
        assert not isinstance(e.value, OwnerDied)


@pytest.mark.timeout(60)
def test_owner_died_recipient_that_dies_passes_it_on(procs: w.Procs) -> None:
    m = shared.Mutex()
    _killed_holder(procs, m)
    # The next holder gets OwnerDied and dies before mark_consistent.
    _killed_holder(procs, m)
    with pytest.raises(OwnerDied):
        m.lock()
    m.mark_consistent()
    m.unlock()


def test_mark_consistent_of_a_consistent_mutex() -> None:
    m = shared.Mutex()
    with pytest.raises(gosync.SyncError, match="^sync: mark_consistent of a consistent mutex$"):
        m.mark_consistent()
    with m:
        with pytest.raises(gosync.SyncError):
            m.mark_consistent()
    with pytest.raises(gosync.SyncError, match="^sync: unlock of unlocked mutex$"):
        m.unlock()
    assert m.try_lock()
    m.unlock()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["Mutex", "RWMutex"])
def test_blocked_waiter_wakes_within_a_second_of_the_death(procs: w.Procs, kind: str) -> None:
    m = getattr(shared, kind)()
    held = shared.atomic.Bool()
    holder = procs.start(w.hold_and_sleep, m, "lock", held)
    w.wait_until(held.load)
    result, at = shared.atomic.Int32(), shared.atomic.Int64()
    procs.start(w.block_on, m, result, at)
    time.sleep(0.3)  # the waiter is asleep in lock()
    assert result.load() == 0
    killed = time.monotonic_ns()
    holder.kill()
    w.wait_until(lambda: result.load() != 0, timeout=10)
    assert result.load() == 1  # OwnerDied
    assert (at.load() - killed) / 1e9 < 1.0
    holder.join(10)
    assert m.lock(5)
    m.unlock()


@pytest.mark.timeout(60)
def test_dead_reader_is_released(procs: w.Procs) -> None:
    rw = shared.RWMutex()
    _killed_holder(procs, rw, "rlock")
    assert rw.lock(5) is True  # no OwnerDied: a reader guards nothing it wrote
    rw.unlock()
    assert rw._debug_state().readers == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("form", ["rlock", "try_rlock", "rlocker"])
def test_dead_writer_seen_by_a_reader(procs: w.Procs, form: str) -> None:
    rw = shared.RWMutex()
    _killed_holder(procs, rw)
    with pytest.raises(OwnerDied):
        if form == "rlock":
            rw.rlock(5)
        elif form == "try_rlock":
            rw.try_rlock()
        else:
            with rw.rlocker():
                raise AssertionError("not reached")
    assert rw._debug_state().writer  # the WRITE lock is held now
    rw.mark_consistent()
    rw.unlock()
    assert rw.rlock(5)
    rw.runlock()


@pytest.mark.timeout(60)
def test_cond_wait_relock_raises_owner_died_with_l_held(procs: w.Procs) -> None:
    # While this process waits, a child takes L and is killed holding it:
    # wait's relock gets OwnerDied, with L held.
    c = shared.Cond()
    held = shared.atomic.Bool()
    c.L.lock()
    p = procs.start(w.hold_and_sleep, c.L, "lock", held)

    def killer() -> None:
        w.wait_until(held.load)
        p.kill()

    t = threading.Thread(target=killer)
    t.start()
    try:
        with pytest.raises(OwnerDied):
            c.wait(0.2)
    finally:
        t.join(30)
    assert c.L._debug_state().owner == os.getpid()
    c.L.mark_consistent()
    c.L.unlock()


SIGINT_CHILD = textwrap.dedent(
    """
    import sys
    import gosync.shared as shared
    kind = sys.argv[1]
    if kind == "Mutex, signal caught by another thread":
        # SIGINT goes to a thread that is not waiting: the waiter is not
        # interrupted by the kernel and must see the pending handler itself.
        import signal, threading, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        def other():
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            time.sleep(60)
        threading.Thread(target=other, daemon=True).start()
        kind = "Mutex"
    if kind == "Mutex":
        p = shared.Mutex()
        p.lock()
        block, again, undo = p.lock, lambda: p.lock(5), p.unlock
    elif kind == "RWMutex.rlock":
        p = shared.RWMutex()
        p.lock()
        block, again, undo = p.rlock, lambda: p.lock(5), p.unlock
    else:
        p = shared.WaitGroup()
        p.add(1)
        block, again, undo = p.wait, lambda: (p.done(), p.wait(5))[1], lambda: None
    try:
        print("blocking", flush=True)
        block()  # never granted: this process holds it
    except KeyboardInterrupt:
        undo()
        assert again() is True
        print("interrupted", flush=True)
        sys.exit(0)
    sys.exit(3)
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "kind", ["Mutex", "Mutex, signal caught by another thread", "RWMutex.rlock", "WaitGroup"]
)
def test_ctrl_c_during_a_blocked_shared_wait(kind: str) -> None:
    p = subprocess.Popen([sys.executable, "-c", SIGINT_CHILD, kind], cwd=CHILD_CWD, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "blocking"
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=30)
        assert p.returncode == 0
        assert out.strip() == "interrupted"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
