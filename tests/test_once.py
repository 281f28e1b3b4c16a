"""Once, once_func, once_value and once_values: Go's once_test.go and
oncefunc_test.go checks."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
import time
import traceback
import weakref

import pytest
from conftest import STRESS, run_threads

import gosync


def test_do_runs_fn_exactly_once_across_threads(fast_switching: None) -> None:
    once = gosync.Once()
    calls = [0]
    seen_done: list[int] = []

    def fn() -> None:
        v = calls[0]
        for _ in range(100):
            pass
        calls[0] = v + 1

    def work(i: int) -> None:
        once.do(fn)
        seen_done.append(calls[0])  # do returns only after fn has returned

    run_threads(10, work)
    assert calls[0] == 1
    assert seen_done == [1] * 10


def test_raising_fn_counts_as_done_and_reaches_the_first_caller_only() -> None:
    once = gosync.Once()
    calls = [0]

    def fn() -> None:
        calls[0] += 1
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        once.do(fn)
    once.do(fn)  # done: no call, no exception
    assert calls[0] == 1


def test_non_callable_raises_before_anything_changes() -> None:
    once = gosync.Once()
    with pytest.raises(TypeError):
        once.do(42)  # type: ignore[arg-type]
    ran: list[int] = []
    once.do(lambda: ran.append(1))
    assert ran == [1]


def test_do_returns_true_once_fn_has_been_called() -> None:
    once = gosync.Once()
    assert once.do(lambda: None) is True
    assert once.do(lambda: None) is True  # done: the fast path
    assert once.do(lambda: None, timeout=0) is True


@pytest.mark.timeout(30)
def test_do_timeout_bounds_the_wait_behind_a_running_fn() -> None:
    # Item 6 of the issue: a thread waiting in do behind the first caller
    # had no timeout. Now it gives up after its timeout and returns False,
    # without calling its fn, while the first call goes on undisturbed.
    once = gosync.Once()
    started, release = threading.Event(), threading.Event()
    first_calls: list[int] = []

    def slow() -> None:
        first_calls.append(1)
        started.set()
        assert release.wait(20)

    t = threading.Thread(target=once.do, args=(slow,), daemon=True)
    t.start()
    assert started.wait(10)
    late_calls: list[int] = []
    for timeout in (0, 0.2):
        t0 = time.monotonic()
        assert once.do(lambda: late_calls.append(1), timeout=timeout) is False
        waited = time.monotonic() - t0
        assert timeout <= waited < timeout + 2, waited
    assert late_calls == [] and first_calls == [1] and t.is_alive()
    # A waiter with a longer timeout returns True when fn ends, not calling its fn.
    result: list[bool] = []
    w = threading.Thread(target=lambda: result.append(once.do(lambda: late_calls.append(2), timeout=10)), daemon=True)
    w.start()
    time.sleep(0.1)
    release.set()
    t.join(10)
    w.join(10)
    assert result == [True] and late_calls == [] and first_calls == [1]
    assert once.do(lambda: late_calls.append(3), timeout=0) is True and late_calls == []


def test_do_timeout_does_not_bound_fn_itself() -> None:
    once = gosync.Once()
    calls: list[int] = []
    # The first caller runs fn to its end, however long it takes.
    assert once.do(lambda: (time.sleep(0.2), calls.append(1)), timeout=0.01) is True
    assert calls == [1]


@pytest.mark.parametrize("bad, error", [(-1, ValueError), ("1", TypeError), (float("nan"), ValueError)])
def test_do_bad_timeout_raises_before_anything_changes(bad: object, error: type) -> None:
    once = gosync.Once()
    calls: list[int] = []
    with pytest.raises(error):
        once.do(lambda: calls.append(1), timeout=bad)  # type: ignore[arg-type]
    assert calls == [] and not once._m.locked()
    assert once.do(lambda: calls.append(2), timeout=1) is True and calls == [2]


@pytest.mark.parametrize("make", [gosync.once_func, gosync.once_value, gosync.once_values])
def test_once_helpers_on_a_method_run_once_per_instance(make) -> None:  # type: ignore[no-untyped-def]
    calls: list[object] = []

    class Config:
        def __init__(self, name: str) -> None:
            self.name = name

        @make
        def load(self) -> tuple[str, int]:
            calls.append(self)
            return (self.name, len(calls))

    a, b = Config("a"), Config("b")
    first = a.load()
    assert a.load() == first and b.load() == b.load()
    assert calls == [a, b]  # once per instance, with the instance as self
    if make is gosync.once_value or make is gosync.once_values:
        assert first == ("a", 1) and b.load() == ("b", 2)
    assert Config.load.__name__ == "load"


def test_once_value_on_a_method_is_once_per_instance_across_threads(fast_switching: None) -> None:
    calls: list[int] = []

    class Lazy:
        @gosync.once_value
        def value(self) -> int:
            calls.append(1)
            time.sleep(0.01)
            return 42

    objs = [Lazy() for _ in range(5)]
    results: list[int] = []
    run_threads(10, lambda i: results.extend(o.value() for o in objs))
    assert calls == [1] * 5 and results == [42] * 50


def test_once_value_on_a_method_of_a_slots_class_refuses_clearly() -> None:
    class Slotted:
        __slots__ = ()

        @gosync.once_value
        def value(self) -> int:
            return 1

    with pytest.raises(TypeError, match=r"once_value\(\) on .*Slotted.value needs instances with a __dict__"):
        Slotted().value()


def test_once_value_as_a_plain_function_is_not_tied_to_any_instance() -> None:
    f = gosync.once_value(lambda: 5)
    assert f() == 5 and f() == 5
    with pytest.raises(TypeError):
        f(1)  # type: ignore[call-arg]


def test_once_values_returns_a_tuple_as_it_is() -> None:
    import collections

    Pair = collections.namedtuple("Pair", "a b")
    p = Pair(1, 2)
    f = gosync.once_values(lambda: p)
    assert f() is p
    assert gosync.once_values(lambda: [1, 2])() == (1, 2)


def test_once_value_and_values() -> None:
    calls = [0]

    def compute() -> int:
        calls[0] += 1
        return 42

    f = gosync.once_value(compute)
    assert [f() for _ in range(3)] == [42, 42, 42]
    g = gosync.once_values(lambda: (1, "a"))
    assert g() == (1, "a") and g() == (1, "a")
    h = gosync.once_func(lambda: calls.__setitem__(0, calls[0] + 10))
    assert h() is None and h() is None
    assert calls[0] == 11


@pytest.mark.parametrize("make", [gosync.once_func, gosync.once_value, gosync.once_values])
def test_raising_fn_reraises_the_same_object_every_time(make) -> None:  # type: ignore[no-untyped-def]
    calls = [0]

    def fn() -> None:
        calls[0] += 1
        raise KeyError("x")

    f = make(fn)
    raised = []
    for _ in range(3):
        with pytest.raises(KeyError) as info:
            f()
        raised.append(info.value)
    assert raised[0] is raised[1] is raised[2]
    assert calls[0] == 1


@pytest.mark.parametrize("make", [gosync.once_func, gosync.once_value, gosync.once_values])
@pytest.mark.parametrize("raises", [False, True])
def test_fn_is_released_after_its_call(make, raises: bool) -> None:  # type: ignore[no-untyped-def]
    class Fn:
        def __call__(self) -> tuple[int]:
            if raises:
                raise RuntimeError("x")
            return (1,)

    fn = Fn()
    ref = weakref.ref(fn)
    f = make(fn)
    del fn
    assert ref() is not None  # the returned function holds it until called
    for _ in range(2):
        try:
            f()
        except RuntimeError:
            pass
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("make", [gosync.once_func, gosync.once_value, gosync.once_values])
def test_fn_is_released_after_one_raising_call(make) -> None:  # type: ignore[no-untyped-def]
    # Go 1.21's TestOnceXGC, its panic subtests: after the one call, which
    # raised, fn can be freed, though every call raises the stored exception.
    # A plain function: from CPython 3.11 its frame in the exception's
    # traceback holds it.
    def fn() -> tuple[int]:
        raise RuntimeError("x")

    ref = weakref.ref(fn)
    f = make(fn)
    del fn
    with pytest.raises(RuntimeError) as first:
        f()
    del first
    gc.collect()
    assert ref() is None
    with pytest.raises(RuntimeError) as again:
        f()
    assert str(again.value) == "x"


def test_the_first_caller_learns_where_fn_raised() -> None:
    def deep() -> None:
        raise ValueError("deep down")

    def fn() -> None:
        deep()

    f = gosync.once_value(fn)
    with pytest.raises(ValueError) as info:
        f()
    shown = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "deep()" in shown and 'raise ValueError("deep down")' in shown, shown


def test_concurrent_callers_of_once_value_see_one_call(fast_switching: None) -> None:
    calls = [0]
    gate = threading.Event()

    def slow() -> object:
        calls[0] += 1
        gate.wait(10)
        return object()

    f = gosync.once_value(slow)
    out: list[object] = []
    threads = [threading.Thread(target=lambda: out.append(f())) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert calls[0] == 1 and len(out) == 8 and all(o is out[0] for o in out)


@pytest.mark.stress
def test_hammer_fresh_onces(fast_switching: None) -> None:
    # Round after round, ten threads (more than cores) meet a fresh Once
    # and a fresh once_func, once_value or once_values (raising in odd
    # rounds). fn yields halfway, so the others pile up in do() meanwhile.
    # Each fn must run exactly once; no do() may return before fn has
    # finished; every caller of the helper must get the one result object,
    # or the one exception object.
    rounds, threads = 100 * STRESS, 10
    makers = [gosync.once_func, gosync.once_value, gosync.once_values]
    for r in range(rounds):
        once = gosync.Once()
        calls = [0, 0]  # once's fn, the helper's fn
        finished = [False]
        early: list[int] = []
        results: list[object] = [None] * threads
        raising = r % 2 == 1

        def fn() -> None:
            v = calls[0]
            time.sleep(0)
            calls[0] = v + 1
            finished[0] = True

        def value() -> tuple[object]:
            v = calls[1]
            time.sleep(0)
            calls[1] = v + 1
            if raising:
                raise ValueError(r)
            return (object(),)

        helper = makers[r % 3](value)

        def work(i: int) -> None:
            once.do(fn)
            if not finished[0]:
                early.append(i)
            try:
                results[i] = helper()
            except ValueError as e:
                results[i] = e

        run_threads(threads, work)
        assert calls == [1, 1], (r, calls)
        assert not early, f"round {r}: do() returned before fn finished"
        assert all(x is results[0] for x in results), (r, results)
        if raising:
            assert isinstance(results[0], ValueError)
        elif makers[r % 3] is gosync.once_func:
            assert results[0] is None
        else:
            assert isinstance(results[0], tuple)


@pytest.mark.parametrize("make", [gosync.once_func, gosync.once_value, gosync.once_values])
def test_once_helpers_refuse_non_callables(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        make(None)


@pytest.mark.parametrize("attempt", [copy.copy, copy.deepcopy, pickle.dumps])
def test_not_copyable(attempt) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        attempt(gosync.Once())
