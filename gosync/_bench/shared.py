"""Scenarios across processes: gosync.shared against multiprocessing.

The targets are issue 13's, for this 2-core machine: the shared Mutex's
uncontended `with` within 1.3x the in-process Mutex and at least 3x faster
than multiprocessing.Lock; the shared Int64.add(1) at least 20x faster than
the lock-guarded increment of a multiprocessing.Value; two processes (one
per core) contending on one lock at least twice multiprocessing.Lock's
throughput. posix_ipc and fasteners are measured beside them when
installed (fastipc uncontended only: see shared_lock_2proc). Then
gosync.shared.Chan between two processes beside multiprocessing's Queue,
SimpleQueue and Pipe (issue 14 sets no target there): a stream of ints
through a buffer of 128, and a round trip. Last, the seeds' primes job with
2 workers, processes against threads.

The processes are forked (the "fork" start method) before the clock starts,
so that every lock, whether it pickles or not, reaches them the same way;
they start together at a barrier, and a sample is the wall time from the
first one's start to the last one's end (one clock for all: perf_counter is
CLOCK_MONOTONIC). Each process counts into shared memory, and the count
must come out exact.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import multiprocessing
import multiprocessing.connection
import os
import tempfile
import threading
from itertools import repeat
from time import perf_counter
from typing import Any, Callable, Tuple

import gosync
import gosync.atomic

from .contended import _check
from .scenario import Contender, Lock, Runner, Sample, Scenario, Target, call_loop_1, single, with_loop

__all__ = ["SHARED"]

_FORK = multiprocessing.get_context("fork")


# ---- the locks a process can share --------------------------------------------------


def _shared_mutex() -> Lock:
    import gosync.shared as shared

    return shared.Mutex()


def _mp_lock() -> Lock:
    return _FORK.Lock()


def _posix_semaphore() -> Lock:
    import posix_ipc

    sem = posix_ipc.Semaphore(None, posix_ipc.O_CREX, initial_value=1)
    sem.unlink()  # the open semaphore lives on, and nothing is left in /dev/shm
    return sem  # type: ignore[no-any-return]


def _fasteners_lock() -> Lock:
    import fasteners

    # A lock file in a folder that the OS cleans; each acquire opens it.
    path = os.path.join(tempfile.gettempdir(), f"gosync-bench-{os.getpid()}.lock")
    return fasteners.InterProcessLock(path)  # type: ignore[no-any-return]


def _fastipc_mutex() -> Lock:
    from fastipc._primitives import Mutex

    # Anonymous shared memory: inherited by forked children, never in /dev/shm.
    return Mutex(memoryview(mmap.mmap(-1, 64)), shared=True)  # type: ignore[no-any-return]


# ---- uncontended -------------------------------------------------------------------


def _with(make: Callable[[], Lock]) -> Runner:
    return single(lambda n: with_loop(make(), n))


def _shared_int64_add(n: int) -> float:
    import gosync.shared as shared

    return call_loop_1(shared.atomic.Int64().add, n)


def _value_locked_increment(n: int) -> float:
    v: Any = _FORK.Value("q", 0)
    t0 = perf_counter()
    for _ in repeat(None, n):
        with v.get_lock():
            v.value += 1
    seconds = perf_counter() - t0
    _check("multiprocessing.Value", v.value, n)
    return seconds


# ---- processes ---------------------------------------------------------------------

PROCESSES = 2


class _Board(ctypes.Structure):
    """What the processes share besides the lock: the counter that the
    critical section increments (a plain, non-atomic int), and each
    process's start and end times."""

    _fields_ = [
        ("counter", ctypes.c_int64),
        ("start", ctypes.c_double * PROCESSES),
        ("end", ctypes.c_double * PROCESSES),
    ]


def _forked(body: Callable[[int, Any], None]) -> Tuple[float, int]:
    """Runs body(slot, board) in PROCESSES forked processes released
    together; returns the wall time from the first start to the last end,
    and the board's counter. A process that fails makes the sample fail."""
    memory = mmap.mmap(-1, ctypes.sizeof(_Board))
    board = _Board.from_buffer(memory)
    barrier = _FORK.Barrier(PROCESSES)

    def child(slot: int) -> None:
        barrier.wait()
        board.start[slot] = perf_counter()
        body(slot, board)
        board.end[slot] = perf_counter()

    procs = [_FORK.Process(target=child, args=(slot,), daemon=True) for slot in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        # Until all have ended, or one has failed: its partner may be
        # blocked on it (a channel's other end) and is then killed below,
        # so the failure is reported at once, not after the deadline.
        deadline = perf_counter() + 300
        running = list(procs)
        while running and perf_counter() < deadline:
            multiprocessing.connection.wait([p.sentinel for p in running], deadline - perf_counter())
            running = [p for p in running if p.exitcode is None]
            if any(p.exitcode not in (None, 0) for p in procs):
                break
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    if any(p.exitcode != 0 for p in procs):
        raise AssertionError(f"a benchmark process failed: exit codes {[p.exitcode for p in procs]}")
    return max(board.end) - min(board.start), board.counter


def _share(n: int, slot: int) -> int:
    """Process slot's part of n operations."""
    return n // PROCESSES + (slot < n % PROCESSES)


def _two_processes(make: Callable[[], Lock]) -> Runner:
    """PROCESSES processes, one per core, share out n `with lock:
    counter += 1` sections on one lock; the counter must come out n."""

    def run(threads: int, n: int) -> Sample:
        lock = make()

        def body(slot: int, board: Any) -> None:
            for _ in repeat(None, _share(n, slot)):
                with lock:
                    board.counter += 1

        seconds, counter = _forked(body)
        _check("counter", counter, n)
        return Sample(n, seconds)

    return run


# ---- the seeds' primes, processes against threads -------------------------------------

PRIMES_BLOCK = 1000


def _is_prime(n: int) -> bool:
    # examples/primes.py's test, so that both time the same work.
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for d in range(3, math.isqrt(n) + 1, 2):
        if n % d == 0:
            return False
    return True


def _sieve_count(limit: int) -> int:
    """The primes below limit, counted another way, to check the workers."""
    if limit < 3:
        return 0
    flags = bytearray([1]) * limit
    flags[0] = flags[1] = 0
    for p in range(2, math.isqrt(limit - 1) + 1):
        if flags[p]:
            flags[p * p :: p] = bytes(len(range(p * p, limit, p)))
    return sum(flags)


def _primes_worker(limit: int, next_block: Any, mu: Any, result: Any, wg: Any) -> None:
    """examples/primes.py's worker: blocks from an atomic counter, the
    count added under a Mutex, a WaitGroup left at the end."""
    try:
        while True:
            end = next_block.add(PRIMES_BLOCK)
            start = end - PRIMES_BLOCK
            if start >= limit:
                return
            found = sum(1 for k in range(start, min(end, limit)) if _is_prime(k))
            with mu:
                result.value += found
    finally:
        wg.done()


def _primes(variant: str) -> Runner:
    """Counts the primes below n with 2 workers: "threads" (gosync's
    primitives) or "processes" (gosync.shared's); start-up included, as in
    the example."""

    def run(threads: int, n: int) -> Sample:
        result: Any = _FORK.RawValue("q", 0)
        launch: Callable[..., Any]
        mu: Lock  # gosync.Mutex or gosync.shared.Mutex
        t0 = perf_counter()
        if variant == "threads":
            next_block, mu, wg = gosync.atomic.Int64(), gosync.Mutex(), gosync.WaitGroup()
            launch = threading.Thread
        else:
            import gosync.shared as shared

            next_block, mu, wg = shared.atomic.Int64(), shared.Mutex(), shared.WaitGroup()
            launch = _FORK.Process
        wg.add(PROCESSES)
        workers = [launch(target=_primes_worker, args=(n, next_block, mu, result, wg)) for _ in range(PROCESSES)]
        for w in workers:
            w.start()
        finished = wg.wait(timeout=300)
        for w in workers:
            w.join(10)
        seconds = perf_counter() - t0
        if not finished:
            raise AssertionError(f"primes, {variant}: the workers did not finish within 300 s")
        _check("primes", result.value, _sieve_count(n))
        return Sample(n, seconds)

    return run


# ---- channels between two processes ------------------------------------------------

CHAN_CAPACITY = 128

Pipe = Tuple[Callable[[Any], object], Callable[[], Any]]  # (put, get), usable after fork


def _shared_chan(capacity: int) -> Pipe:
    import gosync.shared as shared

    ch = shared.Chan(capacity, itemsize=32)
    return ch.send, ch.recv


def _mp_queue(capacity: int) -> Pipe:
    q: Any = _FORK.Queue(max(capacity, 1))  # Queue(0) would mean no bound
    return q.put, q.get


def _mp_simple_queue(capacity: int) -> Pipe:
    q: Any = _FORK.SimpleQueue()  # a pipe and a lock: no bound, no close
    return q.put, q.get


def _mp_pipe(capacity: int) -> Pipe:
    # One direction of a multiprocessing.Pipe: the kernel's pipe buffer is
    # its bound. The reading end stays with the getter, the writing end with
    # the putter; both processes inherit both at the fork.
    reader, writer = _FORK.Pipe(duplex=False)
    return writer.send, reader.recv


def _chan_stream(make: Callable[[int], Pipe]) -> Runner:
    """n values, 0 to n-1, from a producer process to a consumer process
    through a buffer of CHAN_CAPACITY; the consumer checks that each comes
    in order, exactly once."""

    def run(threads: int, n: int) -> Sample:
        put, get = make(CHAN_CAPACITY)

        def body(slot: int, board: Any) -> None:
            if slot == 0:
                for i in range(n):
                    put(i)
                return
            for i in range(n):
                v = get()
                if v != i:
                    raise AssertionError(f"stream: received {v!r}, expected {i}")
                board.counter += 1

        seconds, counter = _forked(body)
        _check("values received", counter, n)
        return Sample(n, seconds)

    return run


def _chan_pingpong(make: Callable[[int], Pipe], capacity: int) -> Runner:
    """n round trips between two processes: process 0 sends i and waits for
    the reply i + 1 from process 1."""

    def run(threads: int, n: int) -> Sample:
        ping_put, ping_get = make(capacity)
        pong_put, pong_get = make(capacity)

        def body(slot: int, board: Any) -> None:
            if slot == 1:
                for _ in repeat(None, n):
                    pong_put(ping_get() + 1)
                return
            for i in range(n):
                ping_put(i)
                if pong_get() != i + 1:
                    raise AssertionError("ping-pong: a wrong reply")
                board.counter += 1

        seconds, counter = _forked(body)
        _check("round trips", counter, n)
        return Sample(n, seconds)

    return run


SHARED: Tuple[Scenario, ...] = (
    Scenario(
        "shared_lock_with",
        "`with m: pass`, uncontended, with locks that processes share",
        (
            Contender("gosync.shared.Mutex", _with(_shared_mutex)),
            Contender("multiprocessing.Lock", _with(_mp_lock)),
            Contender("gosync.Mutex", _with(gosync.Mutex)),
            Contender("posix_ipc.Semaphore", _with(_posix_semaphore), "posix_ipc"),
            Contender("fasteners.InterProcessLock", _with(_fasteners_lock), "fasteners", divisor=20),
            Contender("fastipc.Mutex", _with(_fastipc_mutex), "fastipc"),
        ),
        baseline="multiprocessing.Lock",
        n=200_000,
        targets=(Target("gosync.Mutex", 1.3), Target("multiprocessing.Lock", 3, "faster")),
    ),
    Scenario(
        "shared_int64_add",
        "`x.add(1)` vs `with v.get_lock(): v.value += 1` on a multiprocessing.Value",
        (
            Contender("gosync.shared.atomic", single(_shared_int64_add)),
            Contender("multiprocessing.Value", single(_value_locked_increment), divisor=4),
            Contender("gosync.atomic", single(lambda n: call_loop_1(gosync.atomic.Int64().add, n))),
        ),
        baseline="multiprocessing.Value",
        n=200_000,
        targets=(Target("multiprocessing.Value", 20, "faster"),),
    ),
    Scenario(
        "shared_lock_2proc",
        "2 processes, one per core, on one lock: `with m: counter += 1`",
        (
            Contender("gosync.shared.Mutex", _two_processes(_shared_mutex)),
            Contender("multiprocessing.Lock", _two_processes(_mp_lock)),
            Contender("posix_ipc.Semaphore", _two_processes(_posix_semaphore), "posix_ipc"),
            Contender("fasteners.InterProcessLock", _two_processes(_fasteners_lock), "fasteners", divisor=20),
            # Not fastipc.Mutex: in forked processes under load, fastipc 0.1.5
            # raised "cannot release a mutex not owned by this process" from
            # a `with` in which this process had locked it (seen in CI).
        ),
        baseline="multiprocessing.Lock",
        n=100_000,
        targets=(Target("multiprocessing.Lock", 2, "throughput"),),
    ),
    Scenario(
        "shared_chan_stream",
        f"1 producer process -> 1 consumer process, ints, a buffer of {CHAN_CAPACITY}",
        (
            Contender("gosync.shared.Chan", _chan_stream(_shared_chan)),
            Contender("multiprocessing.Queue", _chan_stream(_mp_queue)),
            Contender("multiprocessing.SimpleQueue", _chan_stream(_mp_simple_queue)),
            Contender("multiprocessing.Pipe", _chan_stream(_mp_pipe)),
        ),
        baseline="multiprocessing.Queue",
        n=50_000,
    ),
    Scenario(
        "shared_chan_pingpong",
        "a round trip between two processes: send, then receive the reply (unbuffered unless named)",
        (
            Contender("gosync.shared.Chan", _chan_pingpong(_shared_chan, 0)),
            # Buffered, as the queues are: a send returns without waiting for
            # the receiver, which the unbuffered one must (a second wake-up).
            Contender("gosync.shared.Chan(1)", _chan_pingpong(_shared_chan, 1)),
            Contender("multiprocessing.Queue", _chan_pingpong(_mp_queue, 1)),
            Contender("multiprocessing.Pipe", _chan_pingpong(_mp_pipe, 0)),
        ),
        baseline="multiprocessing.Queue",
        n=5_000,
    ),
    Scenario(
        "shared_primes",
        "the primes below 200,000 with 2 workers (ns per number tested)",
        (
            Contender("gosync.shared, 2 processes", _primes("processes")),
            Contender("gosync, 2 threads", _primes("threads")),
        ),
        baseline="gosync, 2 threads",
        n=200_000,
    ),
)
