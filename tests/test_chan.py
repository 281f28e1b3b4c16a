"""Chan: ports of Go's runtime/chan_test.go (TestChan's matrix over
capacities, TestNonblockRecvRace, TestMultiConsumer), producers and
consumers with every value received exactly once, close with blocked
senders and receivers, timeouts and signals with the channel exact
afterwards, and the references a channel holds."""

from __future__ import annotations

import collections
import gc
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import PYPY_GC, STRESS, pypy_cannot

import gosync
from gosync import Chan, SyncError, select
from gosync.chan import ChanState

CAPS = [0, 1, 2, 5, 17]


def idle(ch: Chan, closed: bool = False, length: int = 0) -> ChanState:
    return ChanState(length, ch.cap, closed, 0, 0, 0)


def start(fn: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def eventually(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def queued(ch: Chan) -> tuple[int, int]:
    s = ch._debug_state()
    return s.receivers, s.senders


# ---- TestChan: the matrix over capacities ------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cap", CAPS)
def test_recv_from_empty_blocks(cap: int) -> None:
    ch = Chan(cap)
    got: list[Any] = []
    t = start(lambda: got.append(ch.recv()))
    eventually(lambda: queued(ch) == (1, 0), "the receiver never queued")
    time.sleep(0.02)
    assert got == [] and t.is_alive()
    assert ch.send(42) is True
    t.join(10)
    assert got == [42]
    assert ch._debug_state() == idle(ch)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cap", CAPS)
def test_send_to_full_blocks(cap: int) -> None:
    ch = Chan(cap)
    for i in range(cap):
        assert ch.send(i, timeout=0) is True
    assert len(ch) == cap
    sent = threading.Event()
    t = start(lambda: (ch.send("last"), sent.set()))
    eventually(lambda: queued(ch) == (0, 1), "the sender never queued")
    time.sleep(0.02)
    assert not sent.is_set()
    got = [ch.recv() for _ in range(cap + 1)]
    t.join(10)
    assert sent.is_set()
    assert got == [*range(cap), "last"]  # FIFO, the blocked sender's value last
    assert ch._debug_state() == idle(ch)


@pytest.mark.timeout(60)
def test_unbuffered_send_returns_only_once_a_receiver_holds_the_value() -> None:
    # Go's TestChan: "Ensure that send to unbuffered chan blocks".
    for _ in range(20):
        ch = Chan()
        sent = threading.Event()
        t = start(lambda ch=ch, sent=sent: (ch.send(1), sent.set()))  # type: ignore[misc]
        time.sleep(0.002)
        assert not sent.is_set(), "send returned with nobody receiving"
        assert ch.recv() == 1
        t.join(10)
        assert sent.is_set()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cap", CAPS)
def test_fifo_with_a_concurrent_receiver(cap: int) -> None:
    ch = Chan(cap)
    n = 2000
    got: list[int] = []
    t = start(lambda: got.extend(ch))
    for i in range(n):
        assert ch.send(i)
    ch.close()
    t.join(10)
    assert got == list(range(n))


@pytest.mark.parametrize("cap", CAPS)
def test_close_drains_then_reports_closed(cap: int) -> None:
    ch = Chan(cap)
    for i in range(cap):
        ch.send(i)
    ch.close()
    assert len(ch) == cap and ch._debug_state().closed
    assert [ch.recv_ok() for _ in range(cap)] == [(i, True) for i in range(cap)]
    for _ in range(3):  # closed and drained: at once, every time
        assert ch.recv() is None
        assert ch.recv_ok(timeout=0) == (None, False)
        assert select(ch.recv, block=False) == (0, None, False)
    assert list(ch) == []
    with pytest.raises(SyncError, match="^send on closed channel$"):
        ch.send(1)
    with pytest.raises(SyncError, match="^close of closed channel$"):
        ch.close()
    assert ch._debug_state() == idle(ch, closed=True)


@pytest.mark.parametrize("cap", CAPS)
def test_timeouts_leave_nothing_behind(cap: int) -> None:
    ch = Chan(cap)
    for i in range(cap):
        ch.send(i)
    t0 = time.monotonic()
    assert ch.send("x", timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.04
    assert ch._debug_state() == idle(ch, length=cap)
    for i in range(cap):
        assert ch.recv(timeout=0) == i
    with pytest.raises(TimeoutError):
        ch.recv(timeout=0.05)
    with pytest.raises(TimeoutError):
        ch.recv_ok(timeout=0)
    assert ch._debug_state() == idle(ch)  # and "x" was never sent


def test_none_is_a_value() -> None:
    ch = Chan(1)
    ch.send(None)
    assert ch.recv_ok() == (None, True)


def test_len_cap_repr_and_no_copy() -> None:
    ch = Chan(3)
    ch.send("a")
    assert (len(ch), ch.cap) == (1, 3)
    assert repr(ch) == "<gosync.Chan len=1 cap=3>"
    ch.close()
    assert repr(ch) == "<gosync.Chan len=1 cap=3 closed>"
    assert Chan().cap == 0 and Chan(capacity=4).cap == 4


# ---- Go's TestNonblockRecvRace -----------------------------------------------


@pytest.mark.timeout(120)
def test_nonblocking_recv_race() -> None:
    # A non-blocking receive on a channel that holds a value, racing with
    # close, must never report "not ready" (Go issue 18539's test).
    errors: list[str] = []
    for _ in range(500 * STRESS):
        ch = Chan(1)
        ch.send(1)

        def check(ch: Chan = ch) -> None:
            if select(ch.recv, block=False)[0] == -1:
                errors.append("chan is not ready")

        t = start(check)
        ch.close()
        ch.recv()
        t.join(10)
    assert errors == []


# ---- Go's TestMultiConsumer ---------------------------------------------------


@pytest.mark.timeout(120)
def test_multi_consumer() -> None:
    nwork, niter = 23, 271 * STRESS
    pn = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31]
    q: Chan = Chan(nwork * 3)
    r: Chan = Chan(nwork * 3)
    wg = gosync.WaitGroup()
    for w in range(nwork):

        def worker(w: int = w) -> None:
            for v in q:
                if pn[w % len(pn)] == v:
                    time.sleep(0)  # runtime.Gosched
                r.send(v)

        wg.go(worker)
    expect = 0

    def feed() -> None:
        nonlocal expect
        for i in range(niter):
            v = pn[i % len(pn)]
            expect += v
            q.send(v)
        q.close()
        assert wg.wait(60)
        r.close()

    t = start(feed)
    n = s = 0
    for v in r:
        n += 1
        s += v
    t.join(10)
    assert (n, s) == (niter, expect)


# ---- N x M producers and consumers: every value exactly once ---------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cap", [0, 1, 64])
@pytest.mark.parametrize(("producers", "consumers"), [(1, 1), (4, 4), (2, 7), (7, 2)])
def test_every_value_received_exactly_once(
    cap: int, producers: int, consumers: int, fast_switching: None
) -> None:
    ch = Chan(cap)
    per = 1500 * STRESS
    got: list[list[tuple[int, int]]] = [[] for _ in range(consumers)]
    cs = [start(lambda i=i: got[i].extend(ch)) for i in range(consumers)]  # type: ignore[misc]
    ps = [start(lambda p=p: [ch.send((p, i)) for i in range(per)]) for p in range(producers)]  # type: ignore[misc]
    for t in ps:
        t.join(120)
    ch.close()
    for t in cs:
        t.join(120)
    counts = collections.Counter(v for g in got for v in g)
    assert len(counts) == producers * per and set(counts.values()) == {1}
    for g in got:  # each producer's values arrive in order at each consumer
        for p in range(producers):
            mine = [i for q, i in g if q == p]
            assert mine == sorted(mine)
    assert ch._debug_state() == idle(ch, closed=True)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cap", [0, 3])
def test_timed_sends_and_receives_are_exact(cap: int, fast_switching: None) -> None:
    # Senders and receivers that give up after a few microseconds race with
    # partners that complete them: a send reported True was received exactly
    # once, a send reported False never.
    ch = Chan(cap)
    per, nsend, nrecv = 3000 * STRESS, 3, 3
    ok_sent: list[list[int]] = [[] for _ in range(nsend)]
    got: list[list[int]] = [[] for _ in range(nrecv)]
    stop = threading.Event()

    def sender(k: int) -> None:
        for i in range(per):
            v = k * per + i
            if ch.send(v, timeout=0.00002 * (i % 5)):
                ok_sent[k].append(v)

    def receiver(k: int) -> None:
        while not stop.is_set() or len(ch):
            try:
                got[k].append(ch.recv(timeout=0.00003 * (len(got[k]) % 4)))
            except TimeoutError:
                pass

    rs = [start(lambda k=k: receiver(k)) for k in range(nrecv)]  # type: ignore[misc]
    ss = [start(lambda k=k: sender(k)) for k in range(nsend)]  # type: ignore[misc]
    for t in ss:
        t.join(200)
    stop.set()
    for t in rs:
        t.join(200)
    sent = sorted(v for s in ok_sent for v in s)
    received = sorted(v for g in got for v in g)
    assert received == sent
    assert 0 < len(sent) < nsend * per or cap > 0
    assert ch._debug_state() == idle(ch)


# ---- Close with blocked senders and receivers -------------------------------


@pytest.mark.timeout(60)
def test_close_wakes_blocked_receivers() -> None:
    ch = Chan()
    results: list[tuple[Any, bool]] = []
    lock = threading.Lock()

    def rx() -> None:
        r = ch.recv_ok()
        with lock:
            results.append(r)

    ts = [start(rx) for _ in range(6)]
    eventually(lambda: queued(ch) == (6, 0), "receivers never queued")
    ch.close()
    for t in ts:
        t.join(10)
    assert results == [(None, False)] * 6
    assert ch._debug_state() == idle(ch, closed=True)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cap", [0, 2])
def test_close_makes_blocked_senders_raise(cap: int) -> None:
    ch = Chan(cap)
    for i in range(cap):
        ch.send(i)
    errors: list[str] = []
    lock = threading.Lock()

    def tx(v: int) -> None:
        try:
            ch.send(v)
            msg = "sent"
        except SyncError as e:
            msg = str(e)
        with lock:
            errors.append(msg)

    ts = [start(lambda v=v: tx(v)) for v in range(100, 105)]  # type: ignore[misc]
    eventually(lambda: queued(ch) == (0, 5), "senders never queued")
    ch.close()
    for t in ts:
        t.join(10)
    assert errors == ["send on closed channel"] * 5
    assert list(ch) == list(range(cap))  # the buffer is drained; nothing else came
    assert ch._debug_state() == idle(ch, closed=True)


@pytest.mark.timeout(60)
def test_close_while_both_sides_block_on_selects() -> None:
    # Receivers on a, senders on b, each in a select naming both: close(a)
    # completes the receivers; close(b) makes the senders raise.
    a, b = Chan(), Chan()
    out: list[object] = []
    lock = threading.Lock()

    def rx() -> None:
        r = select(a.recv, None)
        with lock:
            out.append(r)

    def tx() -> None:
        try:
            r: object = select((b.send, 1), None)
        except SyncError as e:
            r = str(e)
        with lock:
            out.append(r)

    ts = [start(rx) for _ in range(3)] + [start(tx) for _ in range(3)]
    eventually(lambda: queued(a) == (3, 0) and queued(b) == (0, 3), "never queued")
    a.close()
    b.close()
    for t in ts:
        t.join(10)
    assert sorted(map(str, out)) == ["(0, None, False)"] * 3 + ["send on closed channel"] * 3
    assert a._debug_state() == idle(a, closed=True) and b._debug_state() == idle(b, closed=True)


# ---- References --------------------------------------------------------------


class Token:
    pass


@pypy_cannot(PYPY_GC)
def test_buffered_values_are_released_with_the_channel() -> None:
    ch = Chan(4)
    toks = [Token() for _ in range(3)]
    refs = [weakref.ref(t) for t in toks]
    for t in toks:
        ch.send(t)
    assert ch.recv() is toks[0]
    del toks, t
    assert refs[0]() is None and refs[1]() is not None
    del ch
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


class Holder:
    """A value that can refer to a channel: buffered in that channel, a
    cycle."""

    def __init__(self, n: int = 0) -> None:
        self.n = n
        self.ch: Any = None


@pypy_cannot("cpyext does not traverse a C object's references, so such a cycle is PyPy's to leak")
@pytest.mark.parametrize("cap", [1, 3])
def test_a_cycle_through_a_buffered_value_is_collected(cap: int) -> None:
    ch = Chan(cap)
    values = [Holder() for _ in range(cap)]
    refs = [weakref.ref(v) for v in values]
    for v in values:
        v.ch = ch
        ch.send(v)
    assert set(map(id, gc.get_referents(ch))) >= set(map(id, values))
    chan_ref = weakref.ref(ch)
    del ch, values, v
    gc.collect()
    assert chan_ref() is None
    assert [r() for r in refs] == [None] * cap


@pypy_cannot(PYPY_GC)
def test_collections_while_values_move_lose_nothing() -> None:
    # The collector traverses the ring while a producer and a consumer move
    # values through it with the GIL released; every value arrives once, in
    # order, and nothing the channel holds is freed under it.
    n = 20_000 * STRESS
    ch = Chan(8)
    got: list[int] = []
    stop = threading.Event()

    def producer() -> None:
        for i in range(n):
            ch.send(Holder(i) if i % 2 else i)
        ch.close()

    def collector() -> None:
        while not stop.is_set():
            gc.collect(0)
            gc.get_referents(ch)

    threads = [threading.Thread(target=producer), threading.Thread(target=collector)]
    for t in threads:
        t.start()
    try:
        for v in ch:
            got.append(v.n if isinstance(v, Holder) else v)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert got == list(range(n))


FINALIZED_WHILE_HELD = textwrap.dedent(
    """
    import gc, sys, threading
    from gosync import Chan, select

    class Finalized:
        __slots__ = ("dead", "__weakref__")

        def __init__(self):
            self.dead = False

        def __del__(self):
            self.dead = True

    ch = Chan(1)
    others = [Chan(1) for _ in range(500)]
    gc.collect()  # ch and others lead the oldest generation
    junk = [[i] for i in range(100_000)]
    stop = threading.Event()
    bad = []
    received = 0

    def sender():
        while not stop.is_set():
            ch.send(Finalized(), timeout=0.1)

    def receiver():
        global received
        while not stop.is_set():
            try:
                v = ch.recv(timeout=0.1)
            except TimeoutError:
                continue
            if isinstance(v, Finalized):
                received += 1
                if v.dead:
                    bad.append(received)
                    stop.set()

    def hog():
        cases = [c.recv for c in others] + [(ch.send, None)]
        while not stop.is_set():
            select(*cases, timeout=0.001)

    def collector():
        while not stop.is_set():
            gc.collect()

    threads = [threading.Thread(target=f, daemon=True) for f in (sender, receiver, hog, collector)]
    for t in threads:
        t.start()
    stop.wait(float(sys.argv[1]))
    stop.set()
    for t in threads:
        t.join(30)
    print(received, bad)
    """
)


@pypy_cannot(PYPY_GC)
@pytest.mark.stress
@pytest.mark.timeout(180)
def test_a_value_received_during_a_full_collection_is_not_finalized(tmp_path: Path) -> None:
    # A full collection traverses the channel twice (subtract_refs, then
    # move_unreachable). A receiver that takes a value out of the ring
    # without the GIL between the two must not leave it looking like
    # garbage: its __del__ would run while the receiver holds it. A select
    # over many channels holds the channel's lock without the GIL, so that
    # the receiver often waits for it with the GIL released; a large heap
    # after the channel keeps the collection between its two visits long.
    # In a child: the test process's own heap would put the channel late.
    proc = subprocess.run(
        [sys.executable, "-c", FINALIZED_WHILE_HELD, str(10 * STRESS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    received, bad = proc.stdout.split(" ", 1)
    assert int(received) > 0
    assert bad.strip() == "[]", f"values finalized while a receiver held them (the n-th received): {bad}"


@pypy_cannot("no reference counts to compare (sys.getrefcount)")
def test_failed_sends_keep_no_reference() -> None:
    ch = Chan()
    t = Token()
    before = sys.getrefcount(t)
    assert ch.send(t, timeout=0.01) is False
    assert select((ch.send, t), block=False) == (-1, None, False)
    assert select((ch.send, t), (ch.send, t), timeout=0.01) == (-1, None, False)
    with pytest.raises(TypeError):
        select((ch.send, t), 5)
    ch.close()
    with pytest.raises(SyncError):
        ch.send(t)
    with pytest.raises(SyncError):
        select((ch.send, t))
    assert sys.getrefcount(t) == before


# ---- Ctrl-C -------------------------------------------------------------------

CHILD_PRELUDE = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import gosync
    from gosync import Chan, select

    def interrupt_when(blocked):
        # SIGINT once the main thread is seen queued on its channel(s).
        def watch():
            while not blocked():
                time.sleep(0.005)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=watch, daemon=True).start()

    def state(ch):
        s = ch._debug_state()
        return (s.len, s.receivers, s.senders, s.nodes_in_use)
    """
)

CTRL_C_CASES = {
    # Blocked in recv: interrupted; then the channel works and is exact.
    "recv": """
        ch = Chan({cap})
        interrupt_when(lambda: state(ch)[1] == 1)
        try:
            ch.recv()
            print("RECEIVED")
        except KeyboardInterrupt:
            print("INTERRUPTED")
        print("STATE", state(ch))
        t = threading.Thread(target=ch.send, args=("v",))
        t.start()
        v = ch.recv(timeout=10)
        t.join()
        print("AFTER", v, state(ch))
    """,
    # Blocked in send (buffer full): the value was not sent.
    "send": """
        ch = Chan({cap})
        for i in range({cap}):
            ch.send(i)
        interrupt_when(lambda: state(ch)[2] == 1)
        try:
            ch.send("lost?")
            print("SENT")
        except KeyboardInterrupt:
            print("INTERRUPTED")
        print("STATE", state(ch))
        got = [ch.recv(timeout=10) for _ in range({cap})]
        try:
            got.append(ch.recv(timeout=0.05))
        except TimeoutError:
            pass
        print("AFTER", got, state(ch))
    """,
    # Blocked in a select with a receive and a send case.
    "select": """
        a, b = Chan({cap}), Chan({cap})
        for i in range({cap}):
            b.send(i)
        interrupt_when(lambda: state(a)[1] == 1 and state(b)[2] == 1)
        try:
            print("SELECTED", select(a.recv, (b.send, "lost?"), None))
        except KeyboardInterrupt:
            print("INTERRUPTED")
        print("STATE", state(a), state(b))
        got = [b.recv(timeout=10) for _ in range({cap})]
        t = threading.Thread(target=a.send, args=("v",), kwargs={{"timeout": 0.5}})
        t.start()
        r = select(a.recv, (b.send, "w"))
        t.join()
        print("AFTER", r, got, state(a), state(b))
    """,
}

CTRL_C_EXPECTED = {
    "recv": ["INTERRUPTED", "STATE (0, 0, 0, 0)", "AFTER v (0, 0, 0, 0)"],
    "send": ["INTERRUPTED", "STATE ({cap}, 0, 0, 0)", "AFTER {range} (0, 0, 0, 0)"],
    "select": None,  # checked below: which case the second select takes is random
}


def run_child(body: str, tmp_path: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(body)],
        cwd=tmp_path,  # the installed gosync, not the source tree
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split("\n")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("cap", [0, 2])
@pytest.mark.parametrize("op", ["recv", "send", "select"])
def test_ctrl_c_leaves_the_channel_exact(op: str, cap: int, tmp_path: Path) -> None:
    lines = run_child(CTRL_C_CASES[op].format(cap=cap), tmp_path)
    if op != "select":
        want = [line.format(cap=cap, range=list(range(cap))) for line in CTRL_C_EXPECTED[op] or []]
        assert lines == want
        return
    assert lines[0] == "INTERRUPTED"
    assert lines[1] == f"STATE (0, 0, 0, 0) ({cap}, 0, 0, 0)"
    # The second select either receives "v" from a, or (with room in b) sends
    # "w" to b; "lost?" was never sent.
    assert lines[2] in (
        f"AFTER (0, 'v', True) {list(range(cap))} (0, 0, 0, 0) (0, 0, 0, 0)",
        f"AFTER (1, None, True) {list(range(cap))} (1, 0, 0, 0) (1, 0, 0, 0)"
        if cap
        else "never: b is unbuffered with no receiver",
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("cap", [0, 1])
def test_signal_storm_loses_and_duplicates_nothing(cap: int, tmp_path: Path) -> None:
    # A timer interrupts the receiver's (and the sender's) waits every 200 us.
    # The handler does not raise, so each wait gives up, runs it, and waits
    # again: every value must still arrive exactly once, in order.
    body = f"""
        hits = [0]
        def handler(signum, frame):
            hits[0] += 1
        signal.signal(signal.SIGALRM, handler)
        n = {3000 * STRESS}
        ch = Chan({cap})
        def produce():
            for i in range(n):
                ch.send(i)
            ch.close()
        t = threading.Thread(target=produce)
        t.start()
        signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
        got = []
        while True:
            i, v, ok = select(ch.recv, None) if len(got) % 2 else (0, *ch.recv_ok())
            if not ok:
                break
            got.append(v)
        signal.setitimer(signal.ITIMER_REAL, 0)
        t.join()
        print(got == list(range(n)), hits[0] > 10, state(ch))
    """
    assert run_child(body, tmp_path) == ["True True (0, 0, 0, 0)"]


def test_gil_is_released_while_blocked() -> None:
    ch = Chan()
    t = start(lambda: ch.recv(timeout=10))
    eventually(lambda: queued(ch) == (1, 0), "the receiver never queued")
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.05:
        n += 1  # the main thread runs Python while the receiver waits
    assert n > 1000
    ch.send(1)
    t.join(10)


def test_signal_module_is_not_shadowed() -> None:
    # gosync.select is the function; the standard library's select is intact.
    import select as stdlib_select

    assert callable(gosync.select) and hasattr(stdlib_select, "select")
    assert signal.SIGINT


# A channel of channels, nested deeply (Go's chan chan T as a linked list):
# freeing the head frees the chain. gosync.Chan is a C type, so its dealloc
# bounds that recursion with the trashcan, as CPython's subtype_dealloc
# does for a class written in Python; without it the C stack overflows.
# In a thread with a stack of known size (4 MiB: room for the depth that
# CPython's own recursion limits allow, not for 300,000 frames), in a
# child, since the failure is a crash.
DEEP_CHAIN = """
import threading
import gosync

def chain():
    head = None
    for _ in range(300_000):
        ch = gosync.Chan(1)
        if head is not None:
            ch.send(head)
        head = ch
    del ch
    del head  # frees 300,000 nested channels
    print("FREED")

threading.stack_size(4 * 1024 * 1024)
t = threading.Thread(target=chain)
t.start()
t.join()
"""


@pytest.mark.timeout(120)
def test_freeing_a_deep_chain_of_channels_does_not_overflow_the_stack(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEEP_CHAIN],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "FREED"), proc.stderr[-2000:]
