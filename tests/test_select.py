"""select: ports of Go's runtime/chan_test.go (TestSelfSelect,
TestSelectFairness, TestSelectStress), the uniform choice among ready cases
checked statistically, nil cases, block=False, timeouts, and selects that
name the same channels in opposite orders."""

from __future__ import annotations

import collections
import gc
import math
import sys
import threading
import time
import weakref
from typing import Any, Callable

import pytest
from conftest import PYPY_GC, STRESS, pypy_cannot

from gosync import Chan, SyncError, select
from gosync.chan import ChanState


def start(fn: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def idle(ch: Chan, closed: bool = False, length: int = 0) -> ChanState:
    return ChanState(length, ch.cap, closed, 0, 0, 0)


# ---- The basic cases ----------------------------------------------------------


def test_ready_receive_send_and_closed() -> None:
    a, b = Chan(1), Chan(1)
    a.send("x")
    assert select(a.recv) == (0, "x", True)
    assert select(None, (b.send, "y")) == (1, None, True)
    assert b.recv() == "y"
    a.close()
    assert select(None, a.recv) == (1, None, False)
    with pytest.raises(SyncError, match="^send on closed channel$"):
        select((a.send, 1))


def test_non_blocking_and_timeout() -> None:
    a = Chan()
    assert select(a.recv, (a.send, 1), None, block=False) == (-1, None, False)
    assert select(block=False) == (-1, None, False)
    t0 = time.monotonic()
    assert select(a.recv, None, timeout=0.05) == (-1, None, False)
    assert time.monotonic() - t0 >= 0.04
    assert select(timeout=0.02) == (-1, None, False)  # select {} with a timeout
    assert select(None, None, timeout=0) == (-1, None, False)
    assert a._debug_state() == idle(a)


@pytest.mark.timeout(60)
def test_blocking_select_is_completed_by_a_sender_and_a_receiver() -> None:
    a, b = Chan(), Chan()
    out: list[Any] = []
    t = start(lambda: out.append(select(a.recv, b.recv)))
    while a._debug_state().receivers == 0 or b._debug_state().receivers == 0:
        time.sleep(0.001)
    b.send("to b")
    t.join(10)
    assert out == [(1, "to b", True)]
    t = start(lambda: out.append(select((a.send, "from select"), b.recv)))
    assert a.recv(timeout=10) == "from select"
    t.join(10)
    assert out[1] == (0, None, True)
    assert a._debug_state() == idle(a) and b._debug_state() == idle(b)


def test_same_channel_twice() -> None:
    a = Chan(2)
    a.send(1)
    assert select(a.recv, a.recv)[1:] == (1, True)
    i, _, _ = select((a.send, 2), (a.send, 3))
    assert a.recv() == (2, 3)[i]
    assert select(a.recv, a.recv, timeout=0.01) == (-1, None, False)
    assert a._debug_state() == idle(a)


def test_many_cases() -> None:
    chans = [Chan(1) for _ in range(100)]
    chans[77].send("v")
    assert select(*(c.recv for c in chans)) == (77, "v", True)
    assert select(*(c.recv for c in chans), timeout=0.01) == (-1, None, False)
    assert all(c._debug_state() == idle(c) for c in chans)


@pypy_cannot("no reference counts to compare (sys.getrefcount)")
def test_send_cases_not_chosen_keep_no_reference() -> None:
    ready, full = Chan(1), Chan(1)
    full.send(0)
    t = object()
    before = sys.getrefcount(t)
    for _ in range(3):
        ready.send(1)
        assert select((full.send, t), ready.recv, None, (full.send, t)) == (1, 1, True)
    assert sys.getrefcount(t) == before


class Node:
    result: Any = None


@pypy_cannot(PYPY_GC)
@pytest.mark.parametrize("value", ["node", "list of a node"])
def test_a_cycle_through_the_result_is_collected(value: str) -> None:
    # The result tuple may leave the collector's list only when nothing in
    # it can lead back to it.
    ch: Chan = Chan(1)
    node = Node()
    ch.send(node if value == "node" else [node])
    r = select(ch.recv)
    node.result = r
    gone = weakref.ref(node)
    del node, r
    gc.collect()
    assert gone() is None


def test_receive_from_a_subclass_and_what_is_not_a_case() -> None:
    class Sub(Chan):
        pass

    class Override(Chan):
        def recv(self, timeout: Any = None) -> Any:
            return super().recv(timeout)

    s, o = Sub(1), Override(1)
    s.send("s")
    assert select(None, s.recv) == (1, "s", True)
    o.send("o")
    for bad in (o.recv, len, Chan.recv, print, [].append):
        with pytest.raises(TypeError, match="select case 0 must be"):
            select(bad)
    assert o.recv() == "o"


# ---- Go's TestSelfSelect --------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cap", [0, 10])
def test_self_select(cap: int) -> None:
    # Two threads select on one channel with a send and a receive case: on an
    # unbuffered channel a select must never receive its own value.
    c = Chan(cap)
    errors: list[str] = []

    def run(p: int) -> None:
        for i in range(1000 * STRESS):
            if p == 0 or i % 2 == 0:
                k, v, _ = select((c.send, p), c.recv)
                if k == 1 and cap == 0 and v == p:
                    errors.append(f"self receive {p}")
            else:
                k, v, _ = select(c.recv, (c.send, p))
                if k == 0 and cap == 0 and v == p:
                    errors.append(f"self receive {p}")

    ts = [start(lambda p=p: run(p)) for p in range(2)]  # type: ignore[misc]
    for t in ts:
        t.join(100)
    assert not any(t.is_alive() for t in ts)
    assert errors == []


# ---- Fairness: uniform among ready cases ------------------------------------


def chi_square(counts: list[int]) -> float:
    n = sum(counts)
    e = n / len(counts)
    return sum((c - e) ** 2 / e for c in counts)


# chi-square critical values at p = 1e-6 (a fair select fails once in a
# million runs): degrees of freedom -> bound.
CHI2_1E6 = {1: 23.93, 3: 30.66, 7: 38.88}


@pytest.mark.parametrize("ready", [2, 4, 8])
def test_select_is_uniform_among_ready_cases(ready: int) -> None:
    # Go's TestSelectFairness, with a chi-square test over `ready` buffered
    # channels that are always ready, among nil and never-ready cases. Always
    # taking the first ready case, or a choice biased 55/45 between two, fails.
    trials = 4000 * ready
    chans = [Chan(1) for _ in range(ready)]
    for i, c in enumerate(chans):
        c.send(i)
    never = Chan()
    cases = [x for c in chans for x in (c.recv, None)] + [never.recv]
    counts = [0] * ready
    for _ in range(trials):
        k, v, ok = select(*cases)
        assert ok and k == 2 * v
        counts[v] += 1
        chans[v].send(v)
    assert chi_square(counts) < CHI2_1E6[ready - 1], counts
    # Go's own bound: within 10 sigma of the mean, for each case.
    p = 1 / ready
    sigma = math.sqrt(trials * p * (1 - p))
    assert all(abs(c - trials * p) < 10 * sigma for c in counts), counts


def test_fairness_check_fails_for_a_biased_choice() -> None:
    # The bounds above reject a 55/45 choice and the first-ready choice.
    trials = 8000
    assert chi_square([int(trials * 0.55), int(trials * 0.45)]) > CHI2_1E6[1]
    assert chi_square([trials, 0, 0, 0]) > CHI2_1E6[3]


@pytest.mark.parametrize("block", [True, False])
def test_choice_among_ready_receive_and_send_cases(block: bool) -> None:
    a, b = Chan(1), Chan(1)
    a.send("a")
    counts = collections.Counter()
    for _ in range(4000):
        k, v, ok = select(a.recv, (b.send, "b"), block=block)
        counts[k] += 1
        if k == 0:
            a.send("a")
        else:
            assert b.recv() == "b"
    assert chi_square([counts[0], counts[1]]) < CHI2_1E6[1], counts


# ---- Go's TestSelectStress ----------------------------------------------------


@pytest.mark.timeout(300)
def test_select_stress(fast_switching: None) -> None:
    # Four channels (two unbuffered, two buffered); for each, one thread
    # sends n values with plain sends and one with selects, and one thread
    # receives with plain receives and one with selects that set a finished
    # channel's case to None. Every value is received exactly once.
    n = 3000 * STRESS
    c = [Chan(0), Chan(0), Chan(2), Chan(3)]
    received: list[list[tuple[int, int]]] = [[] for _ in range(2)]
    threads = []
    for k in range(4):

        def plain_send(k: int = k) -> None:
            for i in range(n):
                c[k].send((k, i))

        def plain_recv(k: int = k) -> None:
            for _ in range(n):
                received[0].append(c[k].recv())

        threads += [start(plain_send), start(plain_recv)]

    def select_send() -> None:
        left = [n] * 4
        while any(left):
            cases = [(ch.send, (k, 2 * n - left[k])) if left[k] else None for k, ch in enumerate(c)]
            k, _, ok = select(*cases)
            assert ok
            left[k] -= 1

    def select_recv() -> None:
        left = [n] * 4
        while any(left):
            k, v, ok = select(*[ch.recv if left[k] else None for k, ch in enumerate(c)])
            assert ok
            received[1].append(v)
            left[k] -= 1

    threads += [start(select_send), start(select_recv)]
    for t in threads:
        t.join(250)
    assert not any(t.is_alive() for t in threads)
    got = collections.Counter(v for r in received for v in r)
    want = {(k, i) for k in range(4) for i in range(2 * n)}
    assert set(got) == want and set(got.values()) == {1}
    assert all(ch._debug_state() == idle(ch) for ch in c)


# ---- Opposite orders, no deadlock ---------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cap", [0, 1])
def test_opposite_orders_do_not_deadlock(cap: int, fast_switching: None) -> None:
    # Thread 1 selects over (a, b), thread 2 over (b, a), each sending on
    # one and receiving on the other, while thread 3 closes neither; a lock
    # order by position would deadlock here.
    a, b = Chan(cap), Chan(cap)
    n = 5000 * STRESS
    done = [0, 0]
    moved = collections.Counter()

    def one(me: int, first: Chan, second: Chan) -> None:
        for i in range(n):
            k, v, ok = select((first.send, (me, i)), second.recv, timeout=5)
            assert k != -1, "stuck for 5 s"
            moved[(me, k)] += 1
        done[me] = 1

    t1 = start(lambda: one(0, a, b))
    t2 = start(lambda: one(1, b, a))
    t1.join(250)
    t2.join(250)
    assert done == [1, 1]
    # Every value received was sent: sends by one side match receives by the
    # other, up to what is still buffered.
    assert moved[(0, 0)] == moved[(1, 1)] + len(a)
    assert moved[(1, 0)] == moved[(0, 1)] + len(b)


@pytest.mark.timeout(300)
def test_many_selects_over_shared_channels_in_random_orders(fast_switching: None) -> None:
    import random

    chans = [Chan(k % 2) for k in range(4)]
    n, workers = 1500 * STRESS, 6
    sent = collections.Counter()
    got = collections.Counter()
    lock = threading.Lock()

    def work(seed: int) -> None:
        rnd = random.Random(seed)
        for i in range(n):
            order = rnd.sample(range(4), 4)
            cases = [(chans[k].send, (seed, i)) if rnd.random() < 0.5 else chans[k].recv for k in order]
            k, v, ok = select(*cases, timeout=0.001)
            if k == -1:
                continue
            with lock:
                if isinstance(cases[k], tuple):
                    sent[(seed, i)] += 1
                else:
                    got[v] += 1

    ts = [start(lambda s=s: work(s)) for s in range(workers)]  # type: ignore[misc]
    for t in ts:
        t.join(250)
    for ch in chans:  # drain the buffers
        while True:
            k, v, ok = select(ch.recv, block=False)
            if k == -1:
                break
            got[v] += 1
    assert got == sent and set(sent.values()) <= {1}
    assert all(ch._debug_state() == idle(ch) for ch in chans)
