"""gosync.errgroup and gosync.singleflight: ports of x/sync's
errgroup_test.go and singleflight_test.go, go and num_goroutine, and bad
input."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

import gosync
from gosync import SyncError, context, errgroup, singleflight

pytestmark = pytest.mark.timeout(60)


def eventually(cond: Callable[[], bool], what: str = "condition") -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.001)


# ---- go and num_goroutine ------------------------------------------------------------


def test_go_starts_a_daemon_thread_and_counts() -> None:
    release = threading.Event()
    before = gosync.num_goroutine()
    got: list[Any] = []
    t = gosync.go(lambda a, b=0: (got.append((a, b)), release.wait(10)), 1, b=2)
    assert isinstance(t, threading.Thread) and t.daemon and t.is_alive()
    assert gosync.num_goroutine() == before + 1 == threading.active_count()
    release.set()
    t.join(10)
    assert got == [(1, 2)]
    assert gosync.num_goroutine() == before


def test_go_refuses_non_callable() -> None:
    before = threading.active_count()
    with pytest.raises(TypeError, match="go\\(\\) needs a callable, not int"):
        gosync.go(3)  # type: ignore[arg-type]
    assert threading.active_count() == before


# ---- errgroup_test.go ----------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.parametrize(
    "raises",
    [[], [None], [Boom("1")], [Boom("1"), None], [Boom("1"), Boom("2")]],
    ids=["none", "nil", "one", "one-then-nil", "two"],
)
def test_zero_group(raises: list[BaseException | None]) -> None:
    # TestZeroGroup: wait raises the first exception, in order of raising.
    g = errgroup.Group()
    first: BaseException | None = None
    for exc in raises:

        def fn(exc: BaseException | None = exc) -> None:
            if exc is not None:
                raise exc

        g.go(fn)
        if first is None and exc is not None:
            first = exc
        # Go's test waits between calls so that "first" is well defined.
        if first is not None:
            with pytest.raises(Boom) as info:
                g.wait()
            assert info.value is first
        else:
            g.wait()


def test_with_context_cancels_on_first_error() -> None:
    # TestWithContext
    boom = Boom("boom")
    g, ctx = errgroup.with_context(context.background())
    started = threading.Event()

    def waits_for_cancel() -> None:
        started.set()
        eventually(lambda: ctx.err() is not None, "the group's context")

    g.go(waits_for_cancel)
    started.wait(10)
    g.go(lambda: (_ for _ in ()).throw(boom))
    with pytest.raises(Boom) as info:
        g.wait()
    assert info.value is boom
    assert isinstance(ctx.err(), context.Canceled)
    assert context.cause(ctx) is boom


def test_with_context_cancelled_after_wait_without_error() -> None:
    g, ctx = errgroup.with_context(context.background())
    g.go(lambda: None)
    g.wait()
    assert isinstance(ctx.err(), context.Canceled)
    assert isinstance(context.cause(ctx), context.Canceled)


def test_wait_returns_only_after_every_function() -> None:
    g = errgroup.Group()
    finished: list[str] = []
    g.go(lambda: (time.sleep(0.1), finished.append("slow")))
    g.go(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        g.wait()
    assert finished == ["slow"]


def test_try_go() -> None:
    # TestTryGo
    g = errgroup.Group()
    n = 42
    g.set_limit(n)
    ch = threading.Semaphore(0)  # each fn blocks until given a token
    fn = ch.acquire
    for i in range(n):
        assert g.try_go(fn), f"TryGo should succeed but failed at call {i}"
    assert not g.try_go(fn), "TryGo is expected to fail but succeeded"
    for _ in range(n):
        ch.release()
    g.wait()
    assert g.try_go(fn), "TryGo should succeed after all returned"
    ch.release()
    g.wait()
    g.set_limit(1)
    assert g.try_go(fn)
    assert not g.try_go(fn)
    ch.release()
    g.wait()
    g.set_limit(0)
    for _ in range(1 << 10):
        assert not g.try_go(fn)
    g.wait()


def test_go_limit() -> None:
    # TestGoLimit: never more than the limit at once.
    limit = 3
    g = errgroup.Group()
    g.set_limit(limit)
    active = 0
    peak = 0
    lock = threading.Lock()

    def fn() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            over = active > limit
        time.sleep(0.002)
        with lock:
            active -= 1
        if over:
            raise AssertionError(f"{active} > {limit}")

    for _ in range(40):
        g.go(fn)
    g.wait()
    assert 1 <= peak <= limit


def test_set_limit_while_active_raises() -> None:
    g = errgroup.Group()
    g.set_limit(2)
    gate = threading.Event()
    g.go(gate.wait, 10)
    with pytest.raises(SyncError, match="errgroup: modify limit while 1 goroutines in the group are still active"):
        g.set_limit(5)
    assert g.try_go(gate.wait, 10)  # the old limit, 2, still holds
    assert not g.try_go(gate.wait, 10)
    gate.set()
    g.wait()
    g.set_limit(5)  # nothing active: allowed
    g.set_limit(-1)
    for _ in range(20):
        assert g.try_go(lambda: None)
    g.wait()


def test_set_limit_negative_means_no_limit_even_while_active() -> None:
    g = errgroup.Group()
    gate = threading.Event()
    g.go(gate.wait, 10)
    g.set_limit(-1)  # no limit before: changing it is allowed, as in Go
    gate.set()
    g.wait()


def test_go_at_limit_blocks_until_slot_frees() -> None:
    g = errgroup.Group()
    g.set_limit(1)
    gate = threading.Event()
    g.go(gate.wait, 10)
    started = time.monotonic()
    threading.Timer(0.1, gate.set).start()
    g.go(lambda: None)
    assert time.monotonic() - started >= 0.09
    g.wait()


ERRGROUP_BAD: list[tuple[str, Callable[[errgroup.Group], object], type[BaseException], str]] = [
    ("go not callable", lambda g: g.go(3), TypeError, "Group.go() needs a callable"),  # type: ignore[arg-type]
    ("try_go not callable", lambda g: g.try_go(None), TypeError, "Group.try_go() needs a callable"),  # type: ignore[arg-type]
    ("set_limit str", lambda g: g.set_limit("2"), TypeError, "limit must be an int"),  # type: ignore[arg-type]
    ("set_limit float", lambda g: g.set_limit(2.0), TypeError, "limit must be an int"),  # type: ignore[arg-type]
    ("with_context None", lambda g: errgroup.with_context(None), TypeError, "nil parent"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("call,error,fragment", [b[1:] for b in ERRGROUP_BAD], ids=[b[0] for b in ERRGROUP_BAD])
def test_errgroup_bad_input(
    call: Callable[[errgroup.Group], object], error: type[BaseException], fragment: str
) -> None:
    g = errgroup.Group()
    with pytest.raises(error) as info:
        call(g)
    assert type(info.value) is error and fragment in str(info.value)
    g.go(lambda: None)  # still usable
    g.wait()


# ---- singleflight_test.go ------------------------------------------------------------


def test_do() -> None:
    g: singleflight.Group[str] = singleflight.Group()
    v, shared = g.do("key", lambda: "bar")
    assert (v, shared) == ("bar", False)


def test_do_err() -> None:
    g: singleflight.Group[int] = singleflight.Group()
    err = Boom("some error")

    def fn() -> int:
        raise err

    with pytest.raises(Boom) as info:
        g.do("key", fn)
    assert info.value is err
    assert g._calls == {}  # the failed call is forgotten: the next do runs fn again
    assert g.do("key", lambda: 7) == (7, False)


@pytest.mark.parametrize("fail", [False, True], ids=["value", "exception"])
def test_do_dup_suppress(fail: bool) -> None:
    # TestDoDupSuppress: concurrent callers of one key share one call of fn,
    # and get the very same object back, or the very same exception.
    g: singleflight.Group[object] = singleflight.Group()
    n = 10
    calls = 0
    release = threading.Event()
    result = Boom("shared") if fail else object()

    def fn() -> object:
        nonlocal calls
        calls += 1
        release.wait(10)
        if isinstance(result, Exception):
            raise result
        return result

    got: list[tuple[Any, bool]] = []
    lock = threading.Lock()

    def caller() -> None:
        try:
            out: tuple[Any, bool] = g.do("key", fn)
        except Boom as e:
            out = (e, True)
        with lock:
            got.append(out)

    threads = [threading.Thread(target=caller) for _ in range(n)]
    for t in threads:
        t.start()
    eventually(lambda: "key" in g._calls and g._calls["key"].dups == n - 1, "every caller to join")
    release.set()
    for t in threads:
        t.join(10)
    assert calls == 1
    assert len(got) == n
    assert all(v is result for v, _ in got)
    assert all(shared for _, shared in got)


def test_forget() -> None:
    # TestForget: after forget, a new call runs fn even while the first is
    # in flight; the one after joins the second.
    g: singleflight.Group[int] = singleflight.Group()
    first_started, unblock_first = threading.Event(), threading.Event()
    second_started, unblock_second = threading.Event(), threading.Event()
    results: dict[str, tuple[int, bool]] = {}

    def first() -> int:
        first_started.set()
        unblock_first.wait(10)
        return 1

    def second() -> int:
        second_started.set()
        unblock_second.wait(10)
        return 2

    t1 = threading.Thread(target=lambda: results.__setitem__("first", g.do("key", first)))
    t1.start()
    first_started.wait(10)
    g.forget("key")
    t2 = threading.Thread(target=lambda: results.__setitem__("second", g.do("key", second)))
    t2.start()
    second_started.wait(10)
    unblock_first.set()
    t1.join(10)
    t3 = threading.Thread(target=lambda: results.__setitem__("third", g.do("key", lambda: 3)))
    t3.start()
    eventually(lambda: g._calls["key"].dups == 1, "the third call to join the second")
    unblock_second.set()
    t2.join(10)
    t3.join(10)
    assert results == {"first": (1, False), "second": (2, True), "third": (2, True)}


def test_forget_unknown_key_is_harmless() -> None:
    g: singleflight.Group[int] = singleflight.Group()
    g.forget("nothing")
    assert g.do("nothing", lambda: 1) == (1, False)


def test_keys_are_independent() -> None:
    g: singleflight.Group[str] = singleflight.Group()
    release = threading.Event()
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(g.do("a", lambda: (release.wait(10), "a")[1])))
    t.start()
    eventually(lambda: "a" in g._calls)
    assert g.do("b", lambda: "b") == ("b", False)  # not held up by "a"
    release.set()
    t.join(10)
    assert out == [("a", False)]


SINGLEFLIGHT_BAD: list[tuple[str, Callable[[Any], object], type[BaseException], str]] = [
    ("do unhashable key", lambda g: g.do([], lambda: 1), TypeError, "unhashable"),
    ("do not callable", lambda g: g.do("k", 3), TypeError, "needs a callable"),
    ("forget unhashable key", lambda g: g.forget({}), TypeError, "unhashable"),
]


@pytest.mark.parametrize("call,error,fragment", [b[1:] for b in SINGLEFLIGHT_BAD], ids=[b[0] for b in SINGLEFLIGHT_BAD])
def test_singleflight_bad_input(call: Callable[[Any], object], error: type[BaseException], fragment: str) -> None:
    g: singleflight.Group[int] = singleflight.Group()
    with pytest.raises(error) as info:
        call(g)
    assert type(info.value) is error and fragment in str(info.value)
    assert g._calls == {}
    assert g.do("k", lambda: 1) == (1, False)


def test_do_chan() -> None:
    # TestDoChan, and its sharing with do.
    g: singleflight.Group[str] = singleflight.Group()
    ch = g.do_chan("key", lambda: "bar")
    assert ch.recv(timeout=10) == singleflight.Result("bar", None, False)
    release = threading.Event()
    boom = Boom("shared")

    def fails() -> str:
        release.wait(10)
        raise boom

    first = g.do_chan("k2", fails)
    second = g.do_chan("k2", lambda: "never called")
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(pytest.raises(Boom, g.do, "k2", fails).value))
    t.start()
    eventually(lambda: g._calls["k2"].dups == 2, "the joining callers")
    release.set()
    r1, r2 = first.recv(timeout=10), second.recv(timeout=10)
    t.join(10)
    assert r1.err is boom and r2.err is boom and got == [boom]
    assert r1.shared and r2.shared and r1.value is None
    assert first.cap == 1


def test_forget_with_do_chan() -> None:
    # TestForget as Go writes it, with do_chan.
    g: singleflight.Group[int] = singleflight.Group()
    first_started, unblock_first, first_finished = threading.Event(), threading.Event(), threading.Event()

    def first() -> int:
        first_started.set()
        unblock_first.wait(10)
        first_finished.set()
        return 1

    threading.Thread(target=g.do, args=("key", first)).start()
    first_started.wait(10)
    g.forget("key")
    unblock_second = threading.Event()
    second = g.do_chan("key", lambda: (unblock_second.wait(10), 2)[1])
    unblock_first.set()
    first_finished.wait(10)
    third = g.do_chan("key", lambda: 3)
    unblock_second.set()
    assert second.recv(timeout=10).value == 2
    assert third.recv(timeout=10) == singleflight.Result(2, None, True)
