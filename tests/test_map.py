"""Map: every method against a dict model (hypothesis), Go's range rules,
lock-free reads, unhashable keys, and concurrent range, nested range and
clear under writers."""

from __future__ import annotations

import copy
import pickle
import threading
import time
from typing import Any

import pytest
from conftest import STRESS, run_threads
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import gosync


THREADS = 8  # more than the cores of the CI machines


def items(m: gosync.Map[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}

    def visit(k: Any, v: Any) -> None:
        assert k not in out, f"range visited {k!r} twice"
        out[k] = v

    m.range(visit)
    return out


# ---- the methods -------------------------------------------------------------------


def test_methods() -> None:
    m: gosync.Map[str, Any] = gosync.Map()
    assert m.load("a") == (None, False)
    m.store("a", 1)
    assert m.load("a") == (1, True)
    assert m.load_or_store("a", 2) == (1, True)
    assert m.load_or_store("b", 2) == (2, False)
    assert m.swap("a", 3) == (1, True)
    assert m.swap("c", 4) == (None, False)
    assert m.compare_and_swap("a", 1, 5) is False
    assert m.compare_and_swap("a", 3, 5) is True
    assert m.load("a") == (5, True)
    assert m.compare_and_delete("a", 4) is False
    assert m.compare_and_delete("a", 5) is True
    assert m.load("a") == (None, False)
    assert m.load_and_delete("b") == (2, True)
    assert m.load_and_delete("b") == (None, False)
    m.delete("c")
    m.delete("c")
    assert items(m) == {}
    m.store("x", 1)
    m.clear()
    assert m.load("x") == (None, False) and items(m) == {}


def test_none_is_a_value_like_any_other() -> None:
    m: gosync.Map[str, Any] = gosync.Map()
    m.store("k", None)
    assert m.load("k") == (None, True)
    assert m.load_or_store("k", 1) == (None, True)
    assert m.compare_and_swap("k", None, 2) is True
    assert m.swap("k", None) == (2, True)
    assert m.compare_and_delete("k", None) is True
    assert m.load("k") == (None, False)


def test_missing_keys_compare_false() -> None:
    m: gosync.Map[str, Any] = gosync.Map()
    assert m.compare_and_swap("nope", None, 1) is False
    assert m.compare_and_delete("nope", None) is False
    m.store("other", 1)  # the key is now looked up in dirty too
    assert m.compare_and_swap("nope", None, 1) is False
    assert m.compare_and_delete("nope", None) is False
    m.store("gone", 1)
    m.delete("gone")
    assert m.compare_and_swap("gone", None, 1) is False
    assert m.compare_and_delete("gone", None) is False
    assert items(m) == {"other": 1}


def test_values_are_compared_with_equality() -> None:
    m: gosync.Map[str, Any] = gosync.Map()
    m.store("k", [1, 2])
    assert m.compare_and_swap("k", [1, 2], (3,)) is True  # an equal list
    assert m.compare_and_delete("k", (3,)) is True
    m.store("f", 1.0)
    assert m.compare_and_swap("f", 1, "one") is True  # 1 == 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda m, k: m.load(k),
        lambda m, k: m.store(k, 1),
        lambda m, k: m.load_or_store(k, 1),
        lambda m, k: m.load_and_delete(k),
        lambda m, k: m.delete(k),
        lambda m, k: m.swap(k, 1),
        lambda m, k: m.compare_and_swap(k, 1, 2),
        lambda m, k: m.compare_and_delete(k, 1),
    ],
)
@pytest.mark.parametrize("amended", [False, True])
def test_unhashable_keys_raise_type_error_and_change_nothing(call: Any, amended: bool) -> None:
    m: gosync.Map[Any, Any] = gosync.Map()
    m.store("a", 1)
    m.load("a")  # "a" is now in the read dict
    if amended:
        m.store("b", 2)  # and "b" only in dirty
    before = items(m)
    with pytest.raises(TypeError, match="unhashable"):
        call(m, ["a"])
    assert items(m) == before
    m.store("c", 3)  # still usable
    assert m.load("c") == (3, True)


def test_range_stops_only_on_false() -> None:
    m: gosync.Map[int, int] = gosync.Map()
    for i in range(10):
        m.store(i, i)
    seen: list[int] = []
    m.range(lambda k, v: seen.append(k))  # None continues
    assert sorted(seen) == list(range(10))
    for falsy in (0, "", [], None):
        seen.clear()

        def f(k: int, v: int, falsy: object = falsy) -> object:
            seen.append(k)
            return falsy

        m.range(f)
        assert len(seen) == 10, f"range stopped on {falsy!r}"
    seen.clear()

    def stop_at_three(k: int, v: int) -> bool:
        seen.append(k)
        return len(seen) < 3

    m.range(stop_at_three)
    assert len(seen) == 3


def test_an_exception_in_range_propagates_and_leaves_the_map_usable() -> None:
    m: gosync.Map[int, int] = gosync.Map()
    m.store(1, 1)

    def boom(k: int, v: int) -> None:
        raise KeyError(k)

    with pytest.raises(KeyError):
        m.range(boom)
    m.store(2, 2)
    assert items(m) == {1: 1, 2: 2}


def test_not_copyable_or_picklable() -> None:
    m: gosync.Map[Any, Any] = gosync.Map()
    with pytest.raises(TypeError):
        copy.copy(m)
    with pytest.raises(TypeError):
        copy.deepcopy(m)
    with pytest.raises(TypeError):
        pickle.dumps(m)


def test_finalisers_of_replaced_values_may_use_the_map() -> None:
    m: gosync.Map[str, Any] = gosync.Map()

    class Value:
        def __del__(self) -> None:
            m.store("from __del__", 1)

    def run() -> None:
        for op in (
            lambda: m.swap("k", 0),
            lambda: m.load_and_delete("k"),
            lambda: m.compare_and_swap("k", m.load("k")[0], 0),
            lambda: m.compare_and_delete("k", m.load("k")[0]),
            m.clear,
        ):
            m.store("k", Value())
            m.load("k")
            op()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "deadlock: a finaliser ran inside the map's lock"


# ---- lock-free reads and the read/dirty promotion ---------------------------------------


def test_loads_of_stable_keys_take_no_lock() -> None:
    # Hold both of the map's locks in this thread: a load of a key in the
    # read dict must still complete in another thread. So must the range of
    # a map with nothing new in dirty.
    m: gosync.Map[int, int] = gosync.Map()
    for i in range(100):
        m.store(i, i * i)
    for i in range(100):
        m.load(i)  # enough misses: dirty is published as read
    results: list[Any] = []
    with m._mu, m._emu:
        t = threading.Thread(
            target=lambda: results.append(([m.load(i) for i in range(100)], items(m))),
            daemon=True,
        )
        t.start()
        t.join(10)
        assert not t.is_alive(), "load or range waited for a lock"
    assert results[0][0] == [(i * i, True) for i in range(100)]
    assert results[0][1] == {i: i * i for i in range(100)}


def test_misses_publish_dirty_as_read() -> None:
    # Go's design: once the loads that had to take the lock have cost as
    # much as copying dirty, dirty becomes the read dict.
    m: gosync.Map[str, int] = gosync.Map()
    m.store("a", 1)
    read, amended = m._read
    assert "a" not in read and amended
    m.load("a")  # one miss; len(dirty) == 1
    read, amended = m._read
    assert "a" in read and not amended


# ---- a stateful model test -------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "d", 1, 2, (3,)])
VALUES = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["x", "y"]))


class MapMachine(RuleBasedStateMachine):
    """Every operation on a Map must do what it does to a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.m: gosync.Map[Any, Any] = gosync.Map()
        self.model: dict[Any, Any] = {}

    @rule(k=KEYS)
    def load(self, k: Any) -> None:
        assert self.m.load(k) == ((self.model[k], True) if k in self.model else (None, False))

    @rule(k=KEYS, v=VALUES)
    def store(self, k: Any, v: Any) -> None:
        self.m.store(k, v)
        self.model[k] = v

    @rule(k=KEYS, v=VALUES)
    def load_or_store(self, k: Any, v: Any) -> None:
        want = (self.model[k], True) if k in self.model else (v, False)
        self.model.setdefault(k, v)
        assert self.m.load_or_store(k, v) == want

    @rule(k=KEYS)
    def load_and_delete(self, k: Any) -> None:
        want = (self.model.pop(k), True) if k in self.model else (None, False)
        assert self.m.load_and_delete(k) == want

    @rule(k=KEYS)
    def delete(self, k: Any) -> None:
        self.model.pop(k, None)
        self.m.delete(k)

    @rule(k=KEYS, v=VALUES)
    def swap(self, k: Any, v: Any) -> None:
        want = (self.model[k], True) if k in self.model else (None, False)
        self.model[k] = v
        assert self.m.swap(k, v) == want

    @rule(k=KEYS, old=VALUES, new=VALUES)
    def compare_and_swap(self, k: Any, old: Any, new: Any) -> None:
        want = k in self.model and self.model[k] == old
        if want:
            self.model[k] = new
        assert self.m.compare_and_swap(k, old, new) is want

    @rule(k=KEYS)
    def compare_and_swap_current(self, k: Any) -> None:
        # As above, with old the current value, so that it often succeeds.
        old = self.model.get(k)
        want = k in self.model
        if want:
            self.model[k] = "swapped"
        assert self.m.compare_and_swap(k, old, "swapped") is want

    @rule(k=KEYS, old=VALUES)
    def compare_and_delete(self, k: Any, old: Any) -> None:
        want = k in self.model and self.model[k] == old
        if want:
            del self.model[k]
        assert self.m.compare_and_delete(k, old) is want

    @rule(k=KEYS)
    def compare_and_delete_current(self, k: Any) -> None:
        want = k in self.model
        old = self.model.pop(k, None)
        assert self.m.compare_and_delete(k, old) is want

    @rule()
    def range(self) -> None:
        assert items(self.m) == self.model

    @rule(stop_after=st.integers(1, 4))
    def range_stopping(self, stop_after: int) -> None:
        seen: list[Any] = []

        def f(k: Any, v: Any) -> bool:
            assert self.model[k] == v
            seen.append(k)
            return len(seen) < stop_after

        self.m.range(f)
        assert len(seen) == min(stop_after, len(self.model))

    @rule()
    def clear(self) -> None:
        self.m.clear()
        self.model.clear()

    # Python's container protocols: each as the dict does it.

    @rule(k=KEYS)
    def contains(self, k: Any) -> None:
        assert (k in self.m) is (k in self.model)

    @rule(k=KEYS)
    def getitem(self, k: Any) -> None:
        if k in self.model:
            assert self.m[k] == self.model[k]
        else:
            with pytest.raises(KeyError) as e:
                self.m[k]
            assert e.value.args == (k,)

    @rule(k=KEYS, v=VALUES)
    def setitem(self, k: Any, v: Any) -> None:
        self.m[k] = v
        self.model[k] = v

    @rule(k=KEYS)
    def delitem(self, k: Any) -> None:
        if k in self.model:
            del self.model[k]
            del self.m[k]
        else:
            with pytest.raises(KeyError):
                del self.m[k]

    @rule(k=KEYS, default=VALUES)
    def get(self, k: Any, default: Any) -> None:
        assert self.m.get(k) == self.model.get(k)
        assert self.m.get(k, default) == self.model.get(k, default)

    @rule()
    def size_truth_and_iteration(self) -> None:
        assert len(self.m) == len(self.model)
        assert bool(self.m) is bool(self.model)
        keys = list(self.m)
        assert len(keys) == len(set(keys)) and set(keys) == set(self.model)
        pairs = list(self.m.items())
        assert len(pairs) == len(self.model) and dict(pairs) == self.model

    @invariant()
    def read_is_never_a_dict_that_dirty_still_changes(self) -> None:
        read, _ = self.m._read
        assert read is not self.m._dirty


TestMapModel = MapMachine.TestCase
TestMapModel.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)


# ---- concurrency -------------------------------------------------------------------------------


def test_container_protocols() -> None:
    m: gosync.Map[str, Any] = gosync.Map()
    assert "a" not in m and len(m) == 0 and not m and list(m) == []
    m["a"] = None  # None is a value like any other
    assert "a" in m and m["a"] is None and m.get("a", 5) is None and len(m) == 1 and m
    assert m.get("b") is None and m.get("b", 5) == 5
    with pytest.raises(KeyError):
        m["b"]
    with pytest.raises(KeyError):
        del m["b"]
    m["b"] = 2
    assert sorted(m) == ["a", "b"] and dict(m.items()) == {"a": None, "b": 2}
    del m["a"]
    assert "a" not in m and list(m) == ["b"] and len(m) == 1
    m.delete("a")  # Go's delete stays silent
    with pytest.raises(TypeError):
        [] in m  # noqa: B015 - unhashable, as for a dict
    assert not hasattr(m, "keys") and not hasattr(m, "setdefault")


def test_iteration_body_may_use_the_map() -> None:
    # range's rule: the body may call any method, and no key is seen twice.
    m: gosync.Map[int, int] = gosync.Map()
    for i in range(100):
        m[i] = i
    seen = []
    for k in m:
        seen.append(k)
        del m[k]
        m[k + 1000] = k  # stored during the loop: may or may not be seen
    assert len(seen) == len(set(seen)) and set(range(100)) <= set(seen)
    assert all(k >= 1000 or k < 100 for k in seen)
    assert len(m) == 100 and set(m) == {k + 1000 for k in range(100)}


@pytest.mark.stress
def test_concurrent_del_removes_each_key_exactly_once(fast_switching: None) -> None:
    # Threads race to `del m[k]` over the same keys: exactly one wins each
    # key, the others get KeyError. A load-then-delete would let two win.
    keys = 2000 * STRESS
    m: gosync.Map[int, int] = gosync.Map()
    for k in range(keys):
        m[k] = k
    won: list[list[int]] = [[] for _ in range(THREADS)]

    def work(i: int) -> None:
        for k in range(keys):
            try:
                del m[k]
            except KeyError:
                continue
            won[i].append(k)

    run_threads(THREADS, work)
    all_won = sorted(k for w in won for k in w)
    assert all_won == list(range(keys))
    assert len(m) == 0 and not m


@pytest.mark.stress
def test_concurrent_iteration_sees_each_key_once(fast_switching: None) -> None:
    # Half the threads store and delete churning keys while the others
    # iterate (keys and items) and take len: no key twice, every stable key
    # (never deleted) seen with its own value, and len within the bounds.
    stable = set(range(512))
    m: gosync.Map[int, int] = gosync.Map()
    for k in stable:
        m[k] = k
    readers_done = threading.Event()
    bad: list[str] = []

    def work(i: int) -> None:
        if i % 2 == 0:
            n = 0
            while not readers_done.is_set():
                k = 1000 + (n * THREADS + i) % 4096
                m[k] = k
                m.delete(k - 7)
                n += 1
            return
        try:
            for _ in range(10 * STRESS):
                keys = list(m)
                if len(keys) != len(set(keys)) or not stable <= set(keys):
                    bad.append("iteration: a key twice or a stable key missed")
                pairs = list(m.items())
                if any(k < 512 and v != k for k, v in pairs) or len(pairs) != len({k for k, _ in pairs}):
                    bad.append("items: a wrong value or a key twice")
                if not len(stable) <= len(m) <= len(stable) + 4096:
                    bad.append("len out of bounds")
        finally:
            if i == 1:
                readers_done.set()  # the writers stop after one reader's passes

    run_threads(THREADS, work)
    assert bad == []


@pytest.mark.stress
def test_concurrent_range_sees_every_key_once_with_consistent_values(fast_switching: None) -> None:
    # 1024 keys; writers keep storing new values for them, each value
    # carrying its key. Every range pass must visit each key exactly once,
    # with a value of that key.
    n = 1024
    m: gosync.Map[int, tuple[int, int]] = gosync.Map()
    for k in range(n):
        m.store(k, (k, 0))
    stop = threading.Event()
    errors: list[str] = []
    passes = [0] * 3  # one counter per thread: += is not atomic

    def writer(i: int) -> None:
        r = 0
        while not stop.is_set():
            r += 1
            for k in range(i, n, 7):
                m.store(k, (k, r))
                m.swap(k, (k, -r))
                m.compare_and_swap(k, (k, -r), (k, r))

    def ranger(i: int) -> None:
        for _ in range(20 * STRESS):
            seen: dict[int, int] = {}

            def visit(k: int, v: tuple[int, int]) -> None:
                if k in seen:
                    errors.append(f"key {k} visited twice")
                seen[k] = 1
                if v[0] != k:
                    errors.append(f"key {k} has value {v}")

            m.range(visit)
            if len(seen) != n:
                errors.append(f"a pass saw {len(seen)} keys, not {n}")
            passes[i] += 1

    writers = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(4)]
    for w in writers:
        w.start()
    try:
        run_threads(3, ranger)
    finally:
        stop.set()
        for w in writers:
            w.join(30)
    assert errors == []
    assert passes == [20 * STRESS] * 3


@pytest.mark.stress
def test_concurrent_range_while_keys_come_and_go(fast_switching: None) -> None:
    # Stable keys 0..511 must be seen exactly once per pass even while other
    # keys are added and deleted (which makes dirty and publishes it).
    stable = 512
    m: gosync.Map[int, int] = gosync.Map()
    for k in range(stable):
        m.store(k, -k)
    stop = threading.Event()
    errors: list[str] = []

    def churn(i: int) -> None:
        k = stable + i * 100_000 + 3  # so that k - 3 is never a stable key
        while not stop.is_set():
            m.store(k, -k)
            m.load(k)
            m.load_and_delete(k - 3) if k % 2 else m.delete(k - 3)
            k += 1

    def ranger() -> None:
        for _ in range(20 * STRESS):
            seen: list[int] = []

            def visit(k: int, v: int) -> None:
                if v != -k:
                    errors.append(f"{k}: {v}")
                seen.append(k)

            m.range(visit)
            if len(seen) != len(set(seen)):
                errors.append("a key was visited twice")
            if not set(range(stable)) <= set(seen):
                errors.append("a stable key was missed")

    churners = [threading.Thread(target=churn, args=(i,), daemon=True) for i in range(4)]
    for c in churners:
        c.start()
    try:
        run_threads(2, lambda i: ranger())
    finally:
        stop.set()
        for c in churners:
            c.join(30)
    assert errors == []


def test_nested_range_with_every_kind_of_call_ends_empty() -> None:
    # Go's TestMapRangeNestedCall: inside range, call range again, with
    # load, load_or_store, store and load_and_delete; then delete every key
    # inside the outer range. The map must end empty.
    m: gosync.Map[int, str] = gosync.Map()
    for i, v in enumerate(["hello", "world", "Go"]):
        m.store(i, v)
    errors: list[str] = []

    def outer(key: int, value: str) -> bool:
        def inner(k: int, v: str) -> bool:
            if m.load(k) != (v, True):
                errors.append(f"nested range load {k}: {m.load(k)}, want {v!r}")
            # 42 is deleted at the end of every call, so it is never there.
            if m.load_or_store(42, "dummy") != ("dummy", False):
                errors.append(f"load_or_store found 42: {m.load(42)}")
            m.store(42, "sync.Map")
            if m.load_and_delete(42) != ("sync.Map", True):
                errors.append("load_and_delete of 42 failed")
            # Store the key back (with a changed value, then the same one).
            m.store(k, v + "!")
            m.store(k, v)
            return True

        m.range(inner)
        m.delete(key)
        if m.load(key) != (None, False):
            errors.append(f"{key} still present after delete")
        return True

    m.range(outer)
    assert errors == []
    assert items(m) == {}


def test_range_does_not_block_other_threads() -> None:
    # range's callback waits for another thread that uses the map: it must
    # not find the map locked.
    m: gosync.Map[int, int] = gosync.Map()
    for i in range(10):
        m.store(i, i)
    m.store(100, 100)  # in dirty only: range publishes it first
    done = threading.Event()

    def other() -> None:
        m.store(1000, 1)
        m.load(5)
        m.load(1000)
        m.delete(3)
        m.compare_and_swap(4, 4, 40)
        m.clear()
        done.set()

    def f(k: int, v: int) -> bool:
        t = threading.Thread(target=other, daemon=True)
        t.start()
        t.join(10)
        return False

    m.range(f)
    assert done.is_set(), "another thread was blocked during range"
    assert items(m) == {}


@pytest.mark.stress
def test_concurrent_clear(fast_switching: None) -> None:
    # 10 writers, 10 readers and 10 clearers. Every value read must belong
    # to its key; after the last clear (with everyone stopped) the map is
    # empty, and still works.
    iters = 300 * STRESS
    m: gosync.Map[int, Any] = gosync.Map()
    errors: list[str] = []

    def work(i: int) -> None:
        role = i % 3
        for r in range(iters):
            if role == 0:
                for k in range(i, i + 20):
                    m.store(k, (k, r))
                    m.load_or_store(k + 1000, -k)
            elif role == 1:
                for k in range(i - 1, i + 20):
                    v, ok = m.load(k)
                    if ok and v[0] != k:
                        errors.append(f"{k}: {v}")
                    v, ok = m.load(k + 1000)
                    if ok and v != -k:
                        errors.append(f"{k + 1000}: {v}")

                def check(k: int, v: Any) -> None:
                    if (k < 1000 and v[0] != k) or (k >= 1000 and v != -(k - 1000)):
                        errors.append(f"range {k}: {v}")

                m.range(check)
            else:
                m.clear()

    run_threads(30, work)
    assert errors == []
    m.clear()
    assert items(m) == {}
    assert m.load(5) == (None, False)
    m.store(5, 5)
    assert m.load(5) == (5, True) and items(m) == {5: 5}


@pytest.mark.stress
def test_concurrent_read_modify_writes_are_exact(fast_switching: None) -> None:
    # Eight threads, each round:
    #  - a compare_and_swap increment of one of 4 shared counters: the
    #    totals must be exact;
    #  - load_or_store of the round's new key: exactly one thread stores,
    #    and every thread gets its value back;
    #  - swap of its own unique value into a shared "token" key, and every
    #    third round a load_and_delete or compare_and_delete of it: every
    #    value put in must come out exactly once (the final value included).
    # The new keys and deletions keep dirty being rebuilt and published and
    # deleted entries expunged while the other operations go on.
    threads, iters = 8, 1_000 * STRESS
    m: gosync.Map[Any, int] = gosync.Map()
    for j in range(4):
        m.store(("n", j), 0)
    claims: list[list[tuple[Any, bool]]] = [[] for _ in range(iters)]
    outs: list[list[int]] = [[] for _ in range(threads)]
    retries = [0] * threads

    def work(i: int) -> None:
        out = outs[i]
        for r in range(iters):
            key = ("n", (i + r) % 4)
            while True:
                v, _ = m.load(key)
                if r % 8 == 0:
                    time.sleep(0)  # let the others move the counter meanwhile
                if m.compare_and_swap(key, v, v + 1):  # type: ignore[operator]
                    break
                retries[i] += 1
            claims[r].append((i, *m.load_or_store(("claim", r), i)))  # type: ignore[arg-type]
            old, loaded = m.swap("token", i * iters + r)
            if loaded:
                out.append(old)  # type: ignore[arg-type]
            if r % 3 == 1:
                old, loaded = m.load_and_delete("token")
                if loaded:
                    out.append(old)  # type: ignore[arg-type]
            elif r % 3 == 2:
                old, loaded = m.load("token")
                if loaded and m.compare_and_delete("token", old):
                    out.append(old)  # type: ignore[arg-type]

    run_threads(threads, work)
    per_counter = [0] * 4
    for i in range(threads):
        for r in range(iters):
            per_counter[(i + r) % 4] += 1
    assert [m.load(("n", j))[0] for j in range(4)] == per_counter
    assert sum(retries) > 0, "no compare_and_swap ever failed: the threads never raced"
    for r, row in enumerate(claims):
        stored = [i for i, _actual, loaded in row if not loaded]
        assert len(stored) == 1, f"round {r}: {len(stored)} threads stored"
        assert all(actual == stored[0] for _i, actual, _loaded in row), (r, row)
    last, loaded = m.load("token")
    seen = sorted([v for out in outs for v in out] + ([last] if loaded else []))  # type: ignore[list-item]
    assert seen == list(range(threads * iters))
