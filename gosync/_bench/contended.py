"""Contended scenarios: several threads on one object.

Each runs at every thread count asked for (1, 2, 4 and 8 by default). Every
one checks its own result: a lost update raises AssertionError, so a fast
but wrong contender cannot win.

The lock scenarios (Mutex against threading.Lock) run every contender for
the same wall time, SAMPLE_SECONDS a sample (QUICK_SAMPLE_SECONDS with
--quick), and count the sections done; ns/op is that time over that count,
so it reads like the other rows. They also measure fairness and waiting:
each thread's count of sections is its share (Sample.shares), and one
acquisition in WAIT_SAMPLE_EVERY of each thread's is timed, from before
`with` to inside it.

Why equal time, and why these lengths. Run for a fixed amount of work, the
contenders ran for different times: gosync's 240,000 sections took about
80 ms, threading.Lock's 300-700 ms (its convoy; issue 17's figures). Under the GIL a thread
runs Python only while it holds the GIL, which changes hands at most every
switch interval (5 ms): 80 ms is 16 intervals, two turns each for 8
threads, and some threads never got one, so gosync's fairness read 0.00 in
most rounds. That measured the run's length, not the mutex. 0.5 s is 100
intervals, a dozen turns each for 8 threads, on every side; --quick's
0.2 s is still 40 (5 turns each at 8 threads: its fairness at 8 threads is
rough, and it is the quick run's). The other contended scenarios give
every thread the same count of operations, so no thread can be shut out
of the work, and their wall time is their inverse throughput.

A timed sample stops cleanly: at the time, the main thread stops handing
out tickets, each thread ends after the section it is in (and the wait for
the lock before it), and the sample ends when the last one has been joined;
those last sections count, and so does the time they took.
"""

from __future__ import annotations

import itertools
import sys
import threading
from itertools import repeat
from time import perf_counter, perf_counter_ns, sleep
from typing import Callable, List, Tuple

import gosync
import gosync.atomic

from .scenario import Contender, Lock, Runner, Sample, Scenario, Target, TimedRunner

__all__ = ["CONTENDED", "QUICK_SAMPLE_SECONDS", "SAMPLE_SECONDS", "WAIT_SAMPLE_EVERY"]

# A power of two, so that choosing which acquisitions to time is one `&`.
# One in 32: a 0.5 s sample does up to a few million sections, and --json
# keeps every timed wait; one in 32 keeps a normal run's JSON near the size
# it had with fixed work and one in 8. benchmarks/starvation.py times every
# acquisition, for the exact worst wait.
WAIT_SAMPLE_EVERY = 32
# How long contended_mutex_sleep holds the lock: a short blocking call.
HOLD_S = 50e-6
# The wall time of one sample of a lock scenario, for every contender: see
# the module's docstring for why these lengths.
SAMPLE_SECONDS = 0.5
QUICK_SAMPLE_SECONDS = 0.2


def _run_threads(
    threads: int, worker: Callable[[int], None], seconds: float = 0.0, stop: Callable[[], None] = lambda: None
) -> float:
    """Runs worker(slot) on `threads` threads released together, and
    returns the seconds from the release to the last join. With `seconds`,
    it calls stop() that long after the release; stop must make every
    worker return soon. Interrupted while it waits, it calls stop() and
    joins before raising, so that no thread is left running."""
    start = threading.Barrier(threads + 1)

    def body(slot: int) -> None:
        start.wait()
        worker(slot)

    ts = [threading.Thread(target=body, args=(slot,)) for slot in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    t0 = perf_counter()
    try:
        if seconds:
            sleep(seconds)
            stop()
    except BaseException:
        stop()
        raise
    finally:
        for t in ts:
            t.join()
    return perf_counter() - t0


def _check(what: str, got: int, want: int) -> None:
    # Raised, not asserted: it must hold under python -O too.
    if got != want:
        raise AssertionError(f"{what}: lost updates, got {got}, expected {want}")


# ---- Mutex against threading.Lock ------------------------------------------------------


def _lock_contention(
    make: Callable[[], Lock], count: bool, hold_s: float = 0.0, every: int = WAIT_SAMPLE_EVERY
) -> Tuple[Runner, TimedRunner]:
    """A fixed-work and a timed runner of `with lock:` sections on a shared
    lock. The section is empty; or (count) one increment of a shared Python
    int, which must come out exact; and (hold_s) a sleep, a blocking call
    that lets the GIL go while the lock is held. One acquisition in `every`
    (a power of two) of each thread's is timed, from before `with` to inside
    it.

    The threads take a ticket before each section, until the tickets run
    out: the fixed-work runner hands out threads * n, so a thread that gets
    the lock more often does more of the work; the timed runner hands out
    tickets until its time is up, then none. Each thread counts its own
    sections (its share), and the sections done are the sample's ops."""
    if every < 1 or every & (every - 1):
        raise ValueError(f"every must be a power of two, not {every}")
    mask = every - 1

    def sample(threads: int, tickets: int, seconds: float) -> Sample:
        lock = make()
        # count's __next__ is one C call under the GIL: each ticket below
        # limit[0] goes to exactly one thread. The timed run's stop sets
        # limit[0] to 0: a thread sees it at its next ticket, so it ends
        # within one section (and the wait for the lock before it).
        take = itertools.count().__next__
        limit = [tickets]
        counter = [0]
        shares = [0] * threads
        waits: List[List[int]] = [[] for _ in range(threads)]

        def worker(slot: int) -> None:
            mine = waits[slot]
            got = 0
            while take() < limit[0]:
                if got & mask:
                    with lock:
                        if count:
                            counter[0] += 1
                        if hold_s:
                            sleep(hold_s)
                else:
                    t = perf_counter_ns()
                    with lock:
                        t = perf_counter_ns() - t
                        if count:
                            counter[0] += 1
                        if hold_s:
                            sleep(hold_s)
                    mine.append(t)  # after the unlock, to keep the section short
                got += 1
            shares[slot] = got

        def stop() -> None:
            limit[0] = 0

        elapsed = _run_threads(threads, worker, seconds, stop)
        done = sum(shares)
        if count:
            _check("counter", counter[0], done)
        return Sample(done, elapsed, tuple(shares), [w for ws in waits for w in ws])

    def run(threads: int, n: int) -> Sample:
        return sample(threads, threads * n, 0.0)

    def timed(threads: int, seconds: float) -> Sample:
        if not seconds > 0:
            raise ValueError(f"a timed sample needs a positive time, not {seconds}")
        return sample(threads, sys.maxsize, seconds)

    return run, timed


def _lock_contender(name: str, make: Callable[[], Lock], count: bool, hold_s: float) -> Contender:
    run, timed = _lock_contention(make, count, hold_s)
    return Contender(name, run, timed=timed)


def _lock_scenario(
    name: str, title: str, count: bool, hold_s: float = 0.0, n: int = 240_000, targets: Tuple[Target, ...] = ()
) -> Scenario:
    return Scenario(
        name,
        title,
        (
            _lock_contender("gosync.Mutex", gosync.Mutex, count, hold_s),
            _lock_contender("threading.Lock", threading.Lock, count, hold_s),
        ),
        baseline="threading.Lock",
        n=n,
        contended=True,
        targets=targets,
        seconds=SAMPLE_SECONDS,
        quick_seconds=QUICK_SAMPLE_SECONDS,
    )


# ---- RWMutex against readerwriterlock, fasteners and threading.Lock --------------------

LockPair = Tuple[Callable[[], Lock], Callable[[], Lock]]  # read lock, write lock


def _gosync_rw() -> LockPair:
    rw = gosync.RWMutex()
    return rw.rlocker, lambda: rw


def _threading_rw() -> LockPair:
    lock = threading.Lock()
    return lambda: lock, lambda: lock


def _rwlock_fair() -> LockPair:
    from readerwriterlock import rwlock

    lock = rwlock.RWLockFair()
    return lock.gen_rlock, lock.gen_wlock


def _fasteners_rw() -> LockPair:
    import fasteners

    lock = fasteners.ReaderWriterLock()
    return lock.read_lock, lock.write_lock


def _rw_mix(make: Callable[[], LockPair], writes_in_10: int) -> Runner:
    """Each thread does n operations on a shared 64-entry dict, writes_in_10
    of every 10 an increment under the write lock, the rest a read under the
    read lock. Every lock is each library's `with` idiom, made at the point
    of use. The increments must all be there at the end."""

    def run(threads: int, n: int) -> Sample:
        rlock, wlock = make()
        table = dict.fromkeys(range(64), 0)
        writes = [0] * threads

        def worker(slot: int) -> None:
            get = table.get
            w = 0
            for i in range(n):
                if i % 10 < writes_in_10:
                    with wlock():
                        table[i & 63] += 1
                    w += 1
                else:
                    with rlock():
                        get(i & 63)
            writes[slot] = w

        seconds = _run_threads(threads, worker)
        _check("table", sum(table.values()), sum(writes))
        return Sample(threads * n, seconds)

    return run


def _rw_scenario(name: str, title: str, writes_in_10: int, targets: Tuple[Target, ...] = ()) -> Scenario:
    return Scenario(
        name,
        title,
        (
            Contender("gosync.RWMutex", _rw_mix(_gosync_rw, writes_in_10)),
            Contender("threading.Lock", _rw_mix(_threading_rw, writes_in_10)),
            Contender("readerwriterlock", _rw_mix(_rwlock_fair, writes_in_10), "readerwriterlock", divisor=4),
            Contender("fasteners", _rw_mix(_fasteners_rw, writes_in_10), "fasteners", divisor=4),
        ),
        baseline="threading.Lock",
        n=64_000,
        contended=True,
        targets=targets,
    )


# ---- Cond against threading.Condition ---------------------------------------------------

CondParts = Tuple[Lock, Callable[[], object], Callable[[], object]]  # L, wait, wake all


def _gosync_cond() -> CondParts:
    c = gosync.Cond(gosync.Mutex())
    return c.L, c.wait, c.broadcast


def _threading_condition() -> CondParts:
    c = threading.Condition(threading.Lock())
    return c, c.wait, c.notify_all


def _token_ring(make: Callable[[], CondParts]) -> Runner:
    """The threads pass a token round a ring, n passes each: under the
    lock, wait for your turn, hand the token on and wake everyone (the next
    holder is one particular thread, so waking any one would not do)."""

    def run(threads: int, n: int) -> Sample:
        lock, wait, wake_all = make()
        turn = [0]
        passes = [0]

        def worker(slot: int) -> None:
            after = (slot + 1) % threads
            for _ in repeat(None, n):
                with lock:
                    while turn[0] != slot:
                        wait()
                    turn[0] = after
                    passes[0] += 1
                    wake_all()

        seconds = _run_threads(threads, worker)
        _check("passes", passes[0], threads * n)
        return Sample(threads * n, seconds)

    return run


# ---- atomic add against a lock-guarded int ---------------------------------------------


Adder = Tuple[Callable[[int], object], Callable[[], int]]  # add(delta), read()


def _atomic_add(make: Callable[[], Adder]) -> Runner:
    """Each thread calls add(1) n times; read() must then be threads * n."""

    def run(threads: int, n: int) -> Sample:
        add, read = make()

        def worker(slot: int) -> None:
            for _ in repeat(None, n):
                add(1)

        seconds = _run_threads(threads, worker)
        _check("counter", read(), threads * n)
        return Sample(threads * n, seconds)

    return run


def _gosync_int64() -> Adder:
    x = gosync.atomic.Int64()
    return x.add, x.load


# What a user writes without atomics: the increment inline, under a lock.
def _locked_add(threads: int, n: int) -> Sample:
    lock = threading.Lock()
    x = [0]

    def worker(slot: int) -> None:
        for _ in repeat(None, n):
            with lock:
                x[0] += 1

    seconds = _run_threads(threads, worker)
    _check("counter", x[0], threads * n)
    return Sample(threads * n, seconds)


def _atomics_int() -> Adder:
    import atomics

    x = atomics.atomic(width=8, atype=atomics.INT)
    return x.fetch_add, x.load


def _cereggii_int() -> Adder:
    import cereggii

    x = cereggii.AtomicInt64(0)
    return x.increment_and_get, x.get


CONTENDED: Tuple[Scenario, ...] = (
    _lock_scenario("contended_mutex_empty", "`with m: pass`", count=False),
    _lock_scenario(
        "contended_mutex_counter",
        "`with m: counter += 1`",
        count=True,
        targets=(Target("threading.Lock", 0.8, "throughput", threads=4),),
    ),
    # The case Go's starvation mode is for: the holder blocks (here it
    # sleeps) and, done, comes straight back for the lock.
    _lock_scenario(
        "contended_mutex_sleep",
        "`with m: counter += 1; sleep(50 us)`",
        count=True,
        hold_s=HOLD_S,
        n=2_000,
    ),
    _rw_scenario(
        "contended_rw_90_10",
        "90% reads, 10% writes of a dict",
        1,
        targets=(Target("readerwriterlock", 3, "throughput", threads=4),),
    ),
    _rw_scenario("contended_rw_50_50", "50% reads, 50% writes of a dict", 5),
    Scenario(
        "contended_cond_ring",
        "a token passed round a ring: Cond wait and broadcast",
        (
            Contender("gosync.Cond", _token_ring(_gosync_cond)),
            Contender("threading.Condition", _token_ring(_threading_condition)),
        ),
        baseline="threading.Condition",
        n=8_000,
        contended=True,
    ),
    Scenario(
        "contended_atomic_add",
        "`x.add(1)` vs `with lock: x += 1`",
        (
            Contender("gosync.atomic", _atomic_add(_gosync_int64)),
            Contender("threading.Lock", _locked_add),
            Contender("atomics", _atomic_add(_atomics_int), "atomics", divisor=100),
            Contender("cereggii", _atomic_add(_cereggii_int), "cereggii"),
        ),
        baseline="threading.Lock",
        n=400_000,
        contended=True,
    ),
)
