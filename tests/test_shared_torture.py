"""The kill -9 torture run of gosync.shared.Mutex (issue 13).

Worker processes loop: lock, update the data under a journal, unlock. The
test SIGKILLs one of them at random every ~50 ms and forks a new one in its
place, for about 5 s (times GOSYNC_STRESS). Then it checks, exactly:

- every death while holding the lock was reported exactly once: the deaths
  while holding (after reaping the victim, the lock's owner pid is the
  victim's) equal the OwnerDied deliveries that their receivers recorded
  plus those whose receiver was itself killed before recording (it held
  the lock INCONSISTENT and the record does not name it);
- the data is consistent: a == b == the sum of the per-worker counts of
  committed updates, every rollback having been made from the journal.

Why the other workers are stopped around each kill: a worker calling lock()
checks the owner's liveness at once, so it could take the lock over from
the dead victim before the test reads the owner, and the death would go
uncounted. With the others stopped (SIGSTOP, seen by waitpid), the owner
the test reads after reaping is the owner at the death. A stopped process
counts as alive, so stopping one that holds the lock changes nothing.

No hang: the workers lock with a timeout and exit non-zero if it passes;
every wait of the test has a deadline; every pid is killed and reaped in
a finally, also on failure.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import random
import signal
import time
import traceback
from typing import Any, Callable

import pytest
from conftest import STRESS

gosync_shared = pytest.importorskip("gosync.shared")
from gosync.shared import OwnerDied  # noqa: E402

WORKERS = 3
SECONDS = 5.0 * STRESS
HOLD = 200e-6  # seconds an update holds the lock
REPAIR = 0.01  # seconds a repair takes
LOCK_TIMEOUT = 20.0  # a worker that waits longer reports a hang and exits 3


def lock_state(mu: Any) -> tuple[int, bool, bool]:
    """The lock's owner pid, and its INCONSISTENT and NOTRECOVERABLE bits,
    from a snapshot of the lock's state word."""
    s = mu._debug_state()
    return s.owner, s.inconsistent, s.not_recoverable


class Board(ctypes.Structure):
    """The shared data, in anonymous shared memory inherited by the forked
    workers. a, b and done[] are the data; j_* the journal of the update in
    flight; record counts the OwnerDied deliveries recorded (high 32 bits)
    and names the pid of a recorder that has not yet made the lock
    consistent (low 32 bits, 0 once it has)."""

    _fields_ = [
        ("a", ctypes.c_int64),
        ("b", ctypes.c_int64),
        ("done", ctypes.c_int64 * WORKERS),
        ("j_active", ctypes.c_int64),
        ("j_slot", ctypes.c_int64),
        ("j_a", ctypes.c_int64),
        ("j_b", ctypes.c_int64),
        ("j_done", ctypes.c_int64),
        ("record", ctypes.c_uint64),
        ("errors", ctypes.c_int64),
    ]


def spin(seconds: float) -> None:
    t = time.perf_counter() + seconds
    while time.perf_counter() < t:
        pass


def update(board: Board, slot: int) -> None:
    """One committed update, journaled: old values first, then the journal
    goes active (one store), then the changes, then the commit (one store)."""
    board.j_slot = slot
    board.j_a = board.a
    board.j_b = board.b
    board.j_done = board.done[slot]
    board.j_active = 1
    board.a += 1
    spin(HOLD)  # hold the lock a while: kills land inside
    board.b += 1
    board.done[slot] += 1
    board.j_active = 0


def recover(board: Board, mu: Any, me: int) -> None:
    """What a receiver of OwnerDied does, holding the lock: roll the update
    in flight back from the journal (again, if a repairer died in it),
    record the delivery, make the lock consistent, clear its name."""
    if board.j_active:
        s = board.j_slot
        board.a = board.j_a
        board.b = board.j_b
        board.done[s] = board.j_done
        board.j_active = 0
    spin(REPAIR)  # a slow repair, so that kills land before the record too
    board.record = ((board.record >> 32) + 1) << 32 | me  # one store: count and name
    mu.mark_consistent()
    board.record = (board.record >> 32) << 32


def worker(board: Board, mu: Any, slot: int) -> None:
    """Updates for ever, with the lock form chosen by slot: lock(),
    acquire() or with."""
    me = os.getpid()
    form = slot % 3
    while True:
        if form == 2:
            try:
                with mu:
                    update(board, slot)
            except OwnerDied:
                recover(board, mu, me)  # raised by __enter__: the body did not run
                mu.unlock()
            continue
        try:
            got = mu.lock(timeout=LOCK_TIMEOUT) if form == 0 else mu.acquire(timeout=LOCK_TIMEOUT)
        except OwnerDied:
            recover(board, mu, me)
            got = True
        if not got:
            board.errors += 1
            os._exit(3)
        update(board, slot)
        mu.unlock()


def spawn(body: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 0
        try:
            body()
        except BaseException:
            traceback.print_exc()
            code = 2
        finally:
            os._exit(code)
    return pid


def wait_for(pid: int, stopped: bool, deadline: float) -> int:
    """The wait status of pid once it has stopped (stopped) or ended,
    polling until deadline; AssertionError if it does neither."""
    flags = os.WNOHANG | (os.WUNTRACED if stopped else 0)
    while True:
        got, status = os.waitpid(pid, flags)
        if got == pid:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} did not {'stop' if stopped else 'end'} in time")
        time.sleep(0.0005)


@pytest.mark.stress
@pytest.mark.timeout(60 + 15 * STRESS)
def test_kill_9_torture() -> None:
    memory = mmap.mmap(-1, ctypes.sizeof(Board))  # MAP_SHARED: the children see it
    board = Board.from_buffer(memory)
    mu = gosync_shared.Mutex()
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    pids: dict[int, int] = {}
    kills = deaths_holding = unrecorded = 0

    def start(slot: int) -> None:
        pids[slot] = spawn(lambda: worker(board, mu, slot))

    def kill_and_count(slot: int) -> None:
        """SIGKILLs the worker in slot (the others stopped or dead), reaps
        it, and counts a death while holding, and an OwnerDied delivery
        left unrecorded by it."""
        nonlocal kills, deaths_holding, unrecorded
        victim = pids[slot]
        os.kill(victim, signal.SIGKILL)
        status = wait_for(victim, False, time.monotonic() + 10)
        del pids[slot]
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            raise AssertionError(f"worker {victim} ended by itself, wait status {status:#x}: see its stderr")
        kills += 1
        owner, inconsistent, _ = lock_state(mu)
        if owner == victim:
            deaths_holding += 1
            if inconsistent and board.record & 0xFFFFFFFF != victim:
                unrecorded += 1

    def stop(slots: list[int]) -> None:
        """SIGSTOPs the workers in slots and waits until each has stopped."""
        for s in slots:
            os.kill(pids[s], signal.SIGSTOP)
        for s in slots:
            status = wait_for(pids[s], True, time.monotonic() + 10)
            if not os.WIFSTOPPED(status):
                pid = pids.pop(s)  # reaped by that wait
                raise AssertionError(f"worker {pid} ended by itself, wait status {status:#x}: see its stderr")

    try:
        for slot in range(WORKERS):
            start(slot)
        end = time.monotonic() + SECONDS
        next_kill = time.monotonic()
        while time.monotonic() < end:
            # A kill every 50 ms on average; no burst to catch up after a slow round.
            next_kill = max(next_kill, time.monotonic() - 0.03) + rng.uniform(0.03, 0.07)
            time.sleep(max(0.0, next_kill - time.monotonic()))
            victim_slot = rng.randrange(WORKERS)
            others = [s for s in pids if s != victim_slot]
            stop(others)
            kill_and_count(victim_slot)
            start(victim_slot)
            for s in others:
                os.kill(pids[s], signal.SIGCONT)
        # The end: stop them all, then kill them one by one, counting as before.
        stop(list(pids))
        for slot in list(pids):
            kill_and_count(slot)
    finally:
        # On failure: no worker outlives the test, and none is left unreaped.
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        for pid in pids.values():
            wait_for(pid, False, time.monotonic() + 10)
    assert board.errors == 0

    # The last death while holding (if any) is delivered to us.
    assert not lock_state(mu)[2], "the lock became not recoverable"
    try:
        assert mu.lock(timeout=5)
    except OwnerDied:
        recover(board, mu, os.getpid())
    mu.unlock()

    recorded = board.record >> 32
    print(
        f"\ntorture: {SECONDS:.0f} s, {kills} kills, {deaths_holding} deaths holding the lock, "
        f"{recorded} OwnerDied recorded + {unrecorded} delivered to a receiver killed before recording, "
        f"{board.a} committed updates",
    )
    assert deaths_holding > 0, "no kill landed while holding: the run tested nothing"
    assert deaths_holding == recorded + unrecorded
    assert board.j_active == 0
    assert board.a == board.b == sum(board.done) > 0, (board.a, board.b, list(board.done))
    assert lock_state(mu) == (0, False, False)
    assert mu.try_lock()
    mu.unlock()
