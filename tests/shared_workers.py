"""Worker functions and process helpers for the gosync.shared tests.

The workers live in a module of their own so that processes started with
spawn or forkserver import them by name. Every process a test starts goes
through Procs, which kills and reaps each one by pid when the test ends,
failed or not.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any, Callable

import gosync.shared as shared
from gosync.shared import OwnerDied

DEADLINE = 60.0  # seconds: no worker loops longer than this


class Procs:
    """The processes of one test: started with a start method, reaped by
    pid at the end."""

    def __init__(self, method: str = "fork") -> None:
        self.ctx = multiprocessing.get_context(method)
        self.procs: list[Any] = []

    def start(self, target: Callable[..., object], *args: Any) -> Any:
        p = self.ctx.Process(target=target, args=args, daemon=True)
        p.start()
        self.procs.append(p)
        return p

    def join_all(self, timeout: float = DEADLINE) -> list[int]:
        end = time.monotonic() + timeout
        for p in self.procs:
            p.join(max(0.0, end - time.monotonic()))
        codes = [p.exitcode for p in self.procs]
        assert None not in codes, f"processes still running after {timeout} s: {codes}"
        return codes

    def cleanup(self) -> None:
        for p in self.procs:
            if p.pid is not None and p.exitcode is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            p.join(10)


def wait_until(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    """Polls cond until it holds, failing after timeout seconds."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


# ---- Workers ----------------------------------------------------------------


def count_under_lock(mu: Any, counter: shared.atomic.Int64, inside: shared.atomic.Int32,
                     overlaps: shared.atomic.Int32, n: int) -> None:
    """n increments of counter by a non-atomic load and store under mu;
    inside counts the holders, which must never exceed 1."""
    for _ in range(n):
        with mu:
            if inside.add(1) != 1:
                overlaps.add(1)
            v = counter.load()
            if _ % 7 == 0:
                time.sleep(0)  # let the others run into the lock
            counter.store(v + 1)
            inside.add(-1)


def add_atomics(i64: shared.atomic.Int64, u32: shared.atomic.Uint32, b: shared.atomic.Bool, n: int) -> None:
    for _ in range(n):
        i64.add(3)
        u32.add(-1)
    b.store(True)


def reader(rw: shared.RWMutex, readers_in: shared.atomic.Int32, peak: shared.atomic.Int32,
           writing: shared.atomic.Int32, bad: shared.atomic.Int32, stop: shared.atomic.Bool) -> None:
    while not stop.load():
        with rw.rlocker():
            now = readers_in.add(1)
            while True:  # record the highest number of readers inside together
                p = peak.load()
                if now <= p or peak.compare_and_swap(p, now):
                    break
            if writing.load():
                bad.add(1)
            time.sleep(0.001)
            readers_in.add(-1)


def writer(rw: shared.RWMutex, readers_in: shared.atomic.Int32, writing: shared.atomic.Int32,
           bad: shared.atomic.Int32, n: int) -> None:
    for _ in range(n):
        with rw:
            if writing.add(1) != 1 or readers_in.load() != 0:
                bad.add(1)
            time.sleep(0.0005)
            writing.add(-1)


def wg_member(wg: shared.WaitGroup, done: shared.atomic.Int32, delay: float) -> None:
    time.sleep(delay)
    done.add(1)
    wg.done()


def cond_waiter(
    c: shared.Cond, go: shared.atomic.Bool, woke: shared.atomic.Int32, waiting: shared.atomic.Int32
) -> None:
    with c.L:
        waiting.add(1)
        while not go.load():
            c.wait(DEADLINE)
        woke.add(1)


def once_caller(o: shared.Once, runs: shared.atomic.Int32, gate: shared.WaitGroup) -> None:
    gate.wait(DEADLINE)
    o.do(lambda: runs.add(1))


def once_dier(o: shared.Once, started: shared.atomic.Bool) -> None:
    def fn() -> None:
        started.store(True)
        time.sleep(DEADLINE)

    o.do(fn)


def hold_and_sleep(lock: Any, form: str, held: shared.atomic.Bool) -> None:
    """Takes lock in the given form, says so, and sleeps until killed. An
    OwnerDied is kept as is: this holder dies without repairing."""
    try:
        if form == "rlock":
            lock.rlock()
        else:
            lock.lock()
    except OwnerDied:
        pass
    held.store(True)
    time.sleep(DEADLINE)


def block_on(lock: Any, result: shared.atomic.Int32, at: shared.atomic.Int64) -> None:
    """Blocks in lock(); records 1 for OwnerDied (then repairs and unlocks),
    2 for a plain lock, and when (monotonic ns)."""
    try:
        lock.lock(DEADLINE)
        result.store(2)
    except OwnerDied:
        at.store(time.monotonic_ns())
        result.store(1)
        lock.mark_consistent()
    lock.unlock()


# ---- Pool and executor initializers ------------------------------------------

_counter: shared.atomic.Int64 | None = None


def init_counter(counter: shared.atomic.Int64) -> None:
    global _counter
    _counter = counter


def add_to_counter(x: int) -> int:
    assert _counter is not None
    return _counter.add(x)

