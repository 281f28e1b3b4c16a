"""Channel scenarios: gosync.Chan and gosync.select against queue.Queue,
queue.SimpleQueue and the mixed sync/async queues (janus, culsans,
aiologic, their sync side), each side by side in one run.

- chan_pingpong: a value sent to a partner thread and its reply received,
  over two unbuffered Chans or two queues of size 1 (a round trip).
- chan_stream: one producer thread to one consumer, a buffer of 128.
- chan_select4: a receive through select over four channels of which one is
  ready, against a plain recv.

Every sample checks what it received, so a contender that loses values
cannot win.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from itertools import repeat
from time import perf_counter
from typing import Any, Callable, Tuple

import gosync

from .scenario import Contender, Runner, Sample, Scenario, Target

__all__ = ["CHAN"]

Pair = Tuple[Callable[[Any], object], Callable[[], Any]]  # (put, get)

CAPACITY = 128


def _check(what: str, got: int, want: int) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got}, expected {want}")


# ---- the queues, as (put, get) --------------------------------------------------


def _chan(size: int) -> Pair:
    ch = gosync.Chan(size)
    return ch.send, ch.recv


def _queue(size: int) -> Pair:
    q: queue.Queue[Any] = queue.Queue(size)
    return q.put, q.get


def _simple_queue(size: int) -> Pair:
    q: queue.SimpleQueue[Any] = queue.SimpleQueue()  # no bound: size is ignored
    return q.put, q.get


def _janus(size: int) -> Pair:
    import janus

    async def make() -> Any:
        return janus.Queue(size)

    loop = asyncio.new_event_loop()  # janus makes its queue inside a loop
    q = loop.run_until_complete(make())
    q._gosync_bench_loop = loop  # kept alive with the queue
    return q.sync_q.put, q.sync_q.get


def _culsans(size: int) -> Pair:
    import culsans

    q: Any = culsans.Queue(size)
    return q.sync_q.put, q.sync_q.get


def _aiologic(size: int) -> Pair:
    import aiologic

    q: Any = aiologic.Queue(size)
    return q.green_put, q.green_get


# ---- the loops --------------------------------------------------------------------


def _pingpong(make: Callable[[int], Pair], size: int) -> Runner:
    """n round trips: put to the partner, get its reply."""

    def run(threads: int, n: int) -> Sample:
        ping_put, ping_get = make(size)
        pong_put, pong_get = make(size)

        def partner() -> None:
            for _ in repeat(None, n):
                pong_put(ping_get())

        t = threading.Thread(target=partner, daemon=True)
        t.start()
        total = 0
        t0 = perf_counter()
        for _ in repeat(None, n):
            ping_put(1)
            total += pong_get()
        seconds = perf_counter() - t0
        t.join()
        _check("ping-pong", total, n)
        return Sample(ops=n, seconds=seconds)

    return run


def _stream(make: Callable[[int], Pair]) -> Runner:
    """n values from a producer thread to this one."""

    def run(threads: int, n: int) -> Sample:
        put, get = make(CAPACITY)
        go = threading.Event()

        def producer() -> None:
            go.wait()
            for _ in repeat(None, n):
                put(1)

        t = threading.Thread(target=producer, daemon=True)
        t.start()
        total = 0
        t0 = perf_counter()
        go.set()
        for _ in repeat(None, n):
            total += get()
        seconds = perf_counter() - t0
        t.join()
        _check("stream", total, n)
        return Sample(ops=n, seconds=seconds)

    return run


def _select4(threads: int, n: int) -> Sample:
    idle = [gosync.Chan(1) for _ in range(3)]
    ready = gosync.Chan(n)
    for _ in repeat(None, n):
        ready.send(1)
    cases = (idle[0].recv, idle[1].recv, ready.recv, idle[2].recv)
    select = gosync.select
    total = 0
    t0 = perf_counter()
    for _ in repeat(None, n):
        total += select(*cases)[1]
    seconds = perf_counter() - t0
    _check("select", total, n)
    return Sample(ops=n, seconds=seconds)


def _recv1(threads: int, n: int) -> Sample:
    ready = gosync.Chan(n)
    for _ in repeat(None, n):
        ready.send(1)
    recv = ready.recv
    total = 0
    t0 = perf_counter()
    for _ in repeat(None, n):
        total += recv()
    seconds = perf_counter() - t0
    _check("recv", total, n)
    return Sample(ops=n, seconds=seconds)


def _others(loop: Callable[[Callable[[int], Pair]], Runner]) -> Tuple[Contender, ...]:
    return (
        Contender("janus", loop(_janus), "janus", divisor=4),
        Contender("culsans", loop(_culsans), "culsans", divisor=4),
        Contender("aiologic", loop(_aiologic), "aiologic", divisor=4),
    )


CHAN: Tuple[Scenario, ...] = (
    Scenario(
        "chan_pingpong",
        "unbuffered ping-pong between two threads: send, then receive the reply",
        (
            Contender("gosync.Chan", _pingpong(_chan, 0)),
            Contender("queue.Queue", _pingpong(_queue, 1)),
            *_others(lambda make: _pingpong(make, 1)),
        ),
        baseline="queue.Queue",
        n=20_000,
        targets=(Target("queue.Queue", 2, "faster"),),
    ),
    Scenario(
        "chan_stream",
        f"buffered throughput, 1 producer -> 1 consumer, capacity {CAPACITY}",
        (
            Contender("gosync.Chan", _stream(_chan)),
            Contender("queue.Queue", _stream(_queue)),
            Contender("queue.SimpleQueue", _stream(_simple_queue)),
            *_others(_stream),
        ),
        baseline="queue.Queue",
        n=200_000,
        targets=(Target("queue.Queue", 2, "faster"), Target("queue.SimpleQueue", 0.8, "faster")),
    ),
    Scenario(
        "chan_select4",
        "`select` over 4 channels, one ready, vs a single `recv`",
        (Contender("gosync.select", _select4), Contender("gosync.Chan.recv", _recv1)),
        baseline="gosync.Chan.recv",
        n=200_000,
        targets=(Target("gosync.Chan.recv", 2),),
    ),
)
