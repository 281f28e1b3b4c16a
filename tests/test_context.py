"""gosync.context: the essentials of Go's context/context_test.go, the
shared timer thread, and bad input."""

from __future__ import annotations

import gc
import math
import os
import sys
import threading
import time
import weakref
from typing import Any, Callable, Iterator

import pytest

import gosync
from gosync import context as C
from gosync.context import Canceled, Context, DeadlineExceeded

pytestmark = pytest.mark.timeout(60)

BG = C.background()


def eventually(cond: Callable[[], bool], what: str = "condition", within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.001)


def children(ctx: Context) -> int:
    """How many children a cancellable context keeps (Go's test reads
    cancelCtx.children the same way)."""
    kids = ctx._children  # type: ignore[attr-defined]
    return 0 if kids is None else len(kids)


def test_background_and_todo() -> None:
    for ctx, name in ((C.background(), "context.Background"), (C.todo(), "context.TODO")):
        assert ctx.done() is None and ctx.err() is None and ctx.value("k") is None
        assert ctx.deadline() == (None, False)
        assert repr(ctx) == name
    assert C.background() is C.background() and C.background() is not C.todo()


def test_errors_carry_go_messages() -> None:
    assert str(Canceled()) == "context canceled"
    assert str(DeadlineExceeded()) == "context deadline exceeded"
    assert issubclass(Canceled, Exception) and issubclass(DeadlineExceeded, Exception)


def test_with_cancel_parent_finishes_child() -> None:
    # TestParentFinishesChild: cancelling the parent cancels every kind of
    # child, and the parent lets go of them.
    parent, cancel = C.with_cancel(BG)
    cancel_child, stop1 = C.with_cancel(parent)
    value_child = C.with_value(parent, "key", "value")
    timer_child, stop2 = C.with_timeout(value_child, 3600)
    grandchild, stop3 = C.with_cancel(timer_child)
    assert children(parent) == 2  # cancel_child and timer_child (through the value layer)
    assert children(timer_child) == 1
    cancel()
    for ctx in (parent, cancel_child, value_child, timer_child, grandchild):
        err = ctx.err()
        assert isinstance(err, Canceled), (ctx, err)
    assert cancel_child.err() is parent.err()  # the parent's error, as in Go
    assert children(parent) == 0 and children(timer_child) == 0
    assert timer_child._timer is None  # type: ignore[attr-defined]
    for stop in (stop1, stop2, stop3):
        stop()  # after the parent: does nothing
    assert isinstance(cancel_child.err(), Canceled)


def test_with_cancel_child_finishes_first() -> None:
    # TestChildFinishesFirst: cancelling a child leaves the parent alone and
    # removes the child from it.
    parent, cancel = C.with_cancel(BG)
    child, cancel_child = C.with_cancel(parent)
    assert children(parent) == 1
    cancel_child()
    assert isinstance(child.err(), Canceled)
    assert parent.err() is None
    assert children(parent) == 0
    cancel()
    assert isinstance(parent.err(), Canceled)


def test_child_of_cancelled_parent_is_born_cancelled() -> None:
    parent, cancel = C.with_cancel(BG)
    cancel()
    child, _ = C.with_cancel(C.with_value(parent, 1, 2))
    assert child.err() is parent.err()
    assert children(parent) == 0


def test_cancel_is_idempotent_and_keeps_its_error() -> None:
    ctx, cancel = C.with_cancel(BG)
    cancel()
    first = ctx.err()
    cancel()
    assert ctx.err() is first and isinstance(first, Canceled)


def test_many_children_do_not_leak_into_long_lived_parent() -> None:
    # A cancelled child detaches, so a parent that lives for ever does not
    # keep the children of finished requests.
    parent, cancel = C.with_cancel(BG)
    refs = []
    for _ in range(200):
        child, stop = C.with_timeout(parent, 3600)
        refs.append(weakref.ref(child))
        stop()
    del child, stop
    gc.collect()
    assert children(parent) == 0
    assert all(r() is None for r in refs), "cancelled children are still referenced"
    cancel()


def test_deadline_fires() -> None:
    # TestDeadline / TestTimeout
    start = time.monotonic()
    ctx, cancel = C.with_deadline(BG, start + 0.05)
    d, ok = ctx.deadline()
    assert ok and d == start + 0.05
    assert ctx.err() is None
    eventually(lambda: ctx.err() is not None, "the deadline")
    assert isinstance(ctx.err(), DeadlineExceeded)
    assert time.monotonic() - start >= 0.045
    assert isinstance(C.cause(ctx), DeadlineExceeded)
    cancel()  # after expiry: keeps DeadlineExceeded
    assert isinstance(ctx.err(), DeadlineExceeded)


@pytest.mark.parametrize("timeout", [0, -1, -0.5, -math.inf])
def test_with_timeout_zero_or_negative_is_already_expired(timeout: float) -> None:
    ctx, cancel = C.with_timeout(BG, timeout)
    assert isinstance(ctx.err(), DeadlineExceeded)
    assert ctx._timer is None  # type: ignore[attr-defined]
    cancel()


def test_past_deadline_is_already_expired() -> None:
    ctx, _ = C.with_deadline(BG, time.monotonic() - 1)
    assert isinstance(ctx.err(), DeadlineExceeded)


def test_parent_deadline_earlier_wins() -> None:
    parent, _ = C.with_timeout(BG, 10)
    child, _ = C.with_timeout(parent, 3600)
    assert child.deadline() == parent.deadline()
    child2, _ = C.with_timeout(parent, 1)
    d2, _ = child2.deadline()
    d1, _ = parent.deadline()
    assert d2 is not None and d1 is not None and d2 < d1


def test_parent_deadline_cancels_child() -> None:
    parent, _ = C.with_timeout(BG, 0.05)
    child, _ = C.with_cancel(parent)
    eventually(lambda: child.err() is not None)
    assert isinstance(child.err(), DeadlineExceeded)


def test_canceled_timeout_stops_its_timer() -> None:
    # TestCanceledTimeout: cancel before the deadline gives Canceled, and
    # the shared timer no longer holds the context's callback.
    ctx, cancel = C.with_timeout(BG, 3600)
    t = ctx._timer  # type: ignore[attr-defined]
    assert t is not None and t.fn is not None
    cancel()
    assert isinstance(ctx.err(), Canceled)
    assert t.fn is None and t.stop() is False


def test_deadlines_share_one_timer_thread() -> None:
    before = threading.active_count()
    ctxs = [C.with_timeout(BG, 0.05 + i / 10000) for i in range(500)]
    assert threading.active_count() <= before + 1
    eventually(lambda: all(ctx.err() is not None for ctx, _ in ctxs), "500 deadlines")
    assert all(isinstance(ctx.err(), DeadlineExceeded) for ctx, _ in ctxs)
    assert threading.active_count() <= before + 1
    assert sum(t.name == "gosync-timers" for t in threading.enumerate()) == 1


def test_deadlines_fire_in_order() -> None:
    fired: list[int] = []
    lock = threading.Lock()
    ctxs = []
    now = time.monotonic()
    for i in (5, 1, 4, 2, 3):
        ctx, _ = C.with_deadline(BG, now + i / 50)
        ctxs.append(ctx)
        C.after_func(ctx, lambda i=i: (lock.acquire(), fired.append(i), lock.release()))
    eventually(lambda: len(fired) == 5)
    assert sorted(fired) == [1, 2, 3, 4, 5]
    # Each deadline fires no earlier than asked.
    assert all(ctx.err() is not None for ctx in ctxs)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_timer_thread_restarts_after_fork() -> None:
    C.with_timeout(BG, 0.01)  # the timer thread runs in the parent
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a deadline must still fire
        try:
            ctx, _ = C.with_timeout(BG, 0.05)
            deadline = time.monotonic() + 10
            while ctx.err() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            os.write(w, b"ok" if isinstance(ctx.err(), DeadlineExceeded) else b"no")
        finally:
            os._exit(0)
    os.close(w)
    try:
        got = os.read(r, 2)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    assert got == b"ok"


def test_values() -> None:
    # TestValues
    c1 = C.with_value(BG, "k1", "c1k1")
    c2 = C.with_value(c1, "k2", "c2k2")
    c3 = C.with_value(c2, "k3", "c3k3")
    c4 = C.with_value(c3, "k1", None)
    cc, _ = C.with_cancel(c3)
    assert [c3.value(k) for k in ("k1", "k2", "k3")] == ["c1k1", "c2k2", "c3k3"]
    assert c4.value("k1") is None and c4.value("k2") == "c2k2"
    assert cc.value("k3") == "c3k3" and cc.value("nope") is None
    assert BG.value("k1") is None


def test_value_lookup_of_deep_chain_does_not_recurse() -> None:
    ctx: Context = BG
    for i in range(sys.getrecursionlimit() * 3):
        ctx = C.with_value(ctx, i, i)
        if i % 1000 == 0:
            ctx, _ = C.with_cancel(ctx)
    assert ctx.value(0) == 0 and ctx.value("missing") is None


def test_with_cancel_cause() -> None:
    # TestCause
    why = ValueError("why")
    parent, cancel = C.with_cancel_cause(BG)
    child, _ = C.with_cancel(parent)
    assert C.cause(parent) is None
    cancel(why)
    assert isinstance(parent.err(), Canceled)
    assert C.cause(parent) is why and C.cause(child) is why
    cancel(KeyError("later"))  # the first cause stays
    assert C.cause(parent) is why


def test_cancel_cause_none_is_err() -> None:
    ctx, cancel = C.with_cancel_cause(BG)
    cancel()
    assert C.cause(ctx) is ctx.err()
    plain, cancel2 = C.with_cancel(BG)
    cancel2()
    assert C.cause(plain) is plain.err()
    assert C.cause(BG) is None


def test_timeout_cause() -> None:
    why = TimeoutError("slow backend")
    ctx, cancel = C.with_timeout_cause(BG, 0.02, why)
    eventually(lambda: ctx.err() is not None)
    assert isinstance(ctx.err(), DeadlineExceeded) and C.cause(ctx) is why
    ctx2, cancel2 = C.with_deadline_cause(BG, time.monotonic() + 3600, why)
    cancel2()
    assert isinstance(C.cause(ctx2), Canceled)  # the cancel function does not set the cause


def test_without_cancel() -> None:
    parent, cancel = C.with_cancel(C.with_value(BG, "k", "v"))
    free = C.without_cancel(parent)
    child, cancel_child = C.with_cancel(free)
    cancel()
    assert free.err() is None and free.done() is None and free.deadline() == (None, False)
    assert free.value("k") == "v"
    assert child.err() is None and C.cause(free) is None
    cancel_child()
    assert isinstance(child.err(), Canceled)


def test_after_func_runs_after_cancel_in_another_thread() -> None:
    ctx, cancel = C.with_cancel(BG)
    ran = threading.Event()
    where: list[threading.Thread] = []
    stop = C.after_func(ctx, lambda: (where.append(threading.current_thread()), ran.set()))
    assert not ran.wait(0.02)
    cancel()
    assert ran.wait(10)
    assert where[0] is not threading.current_thread()
    assert stop() is False  # already started


def test_after_func_stop_prevents_the_call() -> None:
    ctx, cancel = C.with_cancel(BG)
    calls: list[int] = []
    stop = C.after_func(ctx, lambda: calls.append(1))
    assert children(ctx) == 1
    assert stop() is True
    assert stop() is False
    assert children(ctx) == 0  # stop lets go of ctx
    cancel()
    time.sleep(0.05)
    assert calls == []


def test_after_func_on_done_context_runs_at_once() -> None:
    ctx, cancel = C.with_cancel(BG)
    cancel()
    ran = threading.Event()
    C.after_func(ctx, ran.set)
    assert ran.wait(10)


def test_after_func_on_never_cancelled_context() -> None:
    ran = threading.Event()
    stop = C.after_func(BG, ran.set)
    assert stop() is True and not ran.is_set()


def test_concurrent_cancel_of_tree_is_exact() -> None:
    for _ in range(20):
        root, cancel_root = C.with_cancel(BG)
        mids = [C.with_cancel(root) for _ in range(4)]
        leaves = [C.with_cancel(m) for m, _ in mids for _ in range(4)]
        gate = threading.Barrier(1 + len(mids) + len(leaves))
        cancels = [cancel_root] + [c for _, c in mids] + [c for _, c in leaves]
        threads = [threading.Thread(target=lambda c=c, g=gate: (g.wait(), c())) for c in cancels]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert all(isinstance(ctx.err(), Canceled) for ctx, _ in mids + leaves)
        assert children(root) == 0 and all(children(m) == 0 for m, _ in mids)


def test_repr_names_the_tree() -> None:
    ctx, _ = C.with_cancel(C.with_value(BG, "k", 1))
    assert repr(ctx) == "context.Background.WithValue('k', 1).WithCancel"
    assert repr(C.without_cancel(BG)) == "context.Background.WithoutCancel"


# ---- bad input ---------------------------------------------------------------------


def _cause_cancel(arg: Any) -> None:
    _, cancel = C.with_cancel_cause(BG)
    cancel(arg)


BAD: list[tuple[str, Callable[[], object], type[BaseException], str]] = [
    ("with_cancel None", lambda: C.with_cancel(None), TypeError, "cannot create context from nil parent"),  # type: ignore[arg-type]
    ("with_cancel int", lambda: C.with_cancel(3), TypeError, "parent must be a gosync.context.Context"),  # type: ignore[arg-type]
    ("with_cancel_cause None", lambda: C.with_cancel_cause(None), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("with_timeout None", lambda: C.with_timeout(None, 1), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("with_timeout str", lambda: C.with_timeout(BG, "1"), TypeError, "timeout must be a number"),  # type: ignore[arg-type]
    ("with_timeout None timeout", lambda: C.with_timeout(BG, None), TypeError, "timeout must be a number"),  # type: ignore[arg-type]
    ("with_timeout nan", lambda: C.with_timeout(BG, math.nan), ValueError, "NaN"),
    ("with_deadline bool", lambda: C.with_deadline(BG, True), TypeError, "deadline must be a number"),
    ("with_deadline nan", lambda: C.with_deadline(BG, math.nan), ValueError, "NaN"),
    ("with_deadline_cause cause", lambda: C.with_deadline_cause(BG, 1, "x"), TypeError, "cause must be"),  # type: ignore[arg-type]
    ("with_timeout_cause cause", lambda: C.with_timeout_cause(BG, 1, 3), TypeError, "cause must be"),  # type: ignore[arg-type]
    ("with_value None key", lambda: C.with_value(BG, None, 1), TypeError, "nil key"),
    ("with_value unhashable", lambda: C.with_value(BG, [], 1), TypeError, "key is not comparable"),
    ("with_value None parent", lambda: C.with_value(None, "k", 1), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("without_cancel None", lambda: C.without_cancel(None), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("after_func not callable", lambda: C.after_func(BG, 3), TypeError, "needs a callable"),  # type: ignore[arg-type]
    ("after_func None ctx", lambda: C.after_func(None, print), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("cause None", lambda: C.cause(None), TypeError, "nil parent"),  # type: ignore[arg-type]
    ("cancel cause not exception", lambda: _cause_cancel("boom"), TypeError, "cause must be an exception"),
]


@pytest.mark.parametrize("call,error,fragment", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call: Callable[[], object], error: type[BaseException], fragment: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error and fragment in str(info.value)


def test_bad_cancel_cause_leaves_context_usable() -> None:
    ctx, cancel = C.with_cancel_cause(BG)
    with pytest.raises(TypeError):
        cancel("boom")  # type: ignore[arg-type]
    assert ctx.err() is None
    cancel()
    assert isinstance(ctx.err(), Canceled)


# ---- done(): a Chan closed at cancellation -------------------------------------------


def is_closed(ch: Any) -> bool:
    """A closed, empty channel: a receive is ready at once, with ok False."""
    index, value, ok = gosync.select(ch.recv, block=False)
    return index == 0 and value is None and ok is False


def test_done_is_one_chan_closed_at_cancel() -> None:
    ctx, cancel = C.with_cancel(BG)
    done = ctx.done()
    assert isinstance(done, gosync.Chan)
    assert ctx.done() is done
    assert gosync.select(done.recv, block=False)[0] == -1  # not closed yet
    cancel()
    assert is_closed(done) and ctx.done() is done


def test_done_asked_after_cancel_is_closed() -> None:
    ctx, cancel = C.with_cancel(BG)
    cancel()
    done = ctx.done()
    assert done is not None and is_closed(done)
    assert ctx.done() is done


def test_done_of_value_and_children() -> None:
    parent, cancel = C.with_cancel(BG)
    value = C.with_value(parent, "k", 1)
    child, _ = C.with_cancel(value)
    assert value.done() is parent.done()
    child_done = child.done()
    cancel()
    assert child_done is not None and is_closed(child_done)


def test_select_wakes_on_cancel() -> None:
    # A thread waits in select on its work channel and done(); cancelling
    # wakes it through done().
    ctx, cancel = C.with_cancel(BG)
    work: gosync.Chan = gosync.Chan()
    done = ctx.done()
    assert done is not None
    got: list[tuple[int, Any, bool]] = []
    t = threading.Thread(target=lambda: got.append(gosync.select(work.recv, done.recv, timeout=10)))
    t.start()
    time.sleep(0.05)
    cancel()
    t.join(10)
    assert got == [(1, None, False)]


def test_deadline_closes_done() -> None:
    ctx, _ = C.with_timeout(BG, 0.05)
    done = ctx.done()
    assert done is not None
    t0 = time.monotonic()
    assert gosync.select(done.recv, timeout=10)[0] == 0
    assert time.monotonic() - t0 >= 0.04
    assert isinstance(ctx.err(), DeadlineExceeded)


class OwnContext(Context):
    """A context of the user's own type, cancelled through its own channel
    (Go's TestCustomContextGoroutines: a thread joins the two)."""

    def __init__(self) -> None:
        self.ch: gosync.Chan = gosync.Chan()
        self.error: BaseException | None = None

    def deadline(self) -> tuple[float | None, bool]:
        return None, False

    def done(self) -> Any:
        return self.ch

    def err(self) -> BaseException | None:
        return self.error

    def value(self, key: object) -> Any:
        return "own" if key == "who" else None

    def cancel(self) -> None:
        self.error = Canceled()
        self.ch.close()


def test_custom_parent_cancels_child() -> None:
    parent = OwnContext()
    child, _ = C.with_cancel(parent)
    assert child.value("who") == "own"
    parent.cancel()
    eventually(lambda: child.err() is not None, "the child of a custom context")
    assert child.err() is parent.error


def test_custom_parent_thread_ends_with_child() -> None:
    parent = OwnContext()
    before = threading.active_count()
    child, cancel = C.with_cancel(parent)
    assert threading.active_count() == before + 1  # the thread that joins them
    cancel()
    eventually(lambda: threading.active_count() == before, "the joining thread to end")
    assert parent.err() is None


@pytest.fixture
def recursion_limit_1000() -> Iterator[int]:
    # A known limit: an earlier test may have raised it (mypy's API sets
    # 2**14 and leaves it so).
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield 1000
    finally:
        sys.setrecursionlimit(before)


def test_cancel_of_chain_deeper_than_recursion_limit(recursion_limit_1000: int) -> None:
    root, cancel = C.with_cancel(BG)
    ctx: Context = root
    chain = []
    for i in range(recursion_limit_1000 * 2):
        # Each deadline earlier than its parent's, so each is a timer of its
        # own: 200 s earlier, so that no pause of the test between two of
        # them (a collection, a busy machine) makes a child's later.
        ctx, _ = C.with_timeout(ctx, 10**6 - 100 * i) if i % 2 else C.with_cancel(ctx)
        chain.append(ctx)
    assert chain[-1].deadline()[0] == chain[-1]._deadline  # type: ignore[attr-defined]
    assert all(c._timer is not None for c in chain[1::2])  # type: ignore[attr-defined]
    cancel()
    assert all(isinstance(c.err(), Canceled) for c in chain)
    assert all(c._timer is None for c in chain[1::2])  # type: ignore[attr-defined]
