"""Bad input to the whole public API, as one table.

Each row of CASES calls one public callable of gosync or gosync.atomic with
bad input, or in a state where the call is misuse, and names the exception
type (exactly: a subclass would not match) and a fragment of its message.
After the exception the test checks that the primitive's state is what it
was before the call (docs/DESIGN.md, "The Python layer's contract": a bad
call changes nothing), then puts the primitive back in its initial state and
runs a short functional probe to show that it still works.

test_every_public_callable_has_a_row walks the public API and fails for any
public callable that no row covers, so that a new method comes with its
bad-input rows.
"""

from __future__ import annotations

import copy
import math
import pickle
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping, NoReturn

import pytest

import gosync
from gosync import SyncError
from gosync.atomic import Bool, Int32, Int64, Uint32, Uint64, Value
from gosync.chan import ChanState
from gosync.cond import CondState
from gosync.mutex import MutexState
from gosync.rwmutex import RLocker, RWMutexState
from gosync.waitgroup import WaitGroupState

# ---- Probes: how to make, look at and exercise each primitive ----------------


@dataclass(frozen=True)
class Probe:
    """make() builds a fresh primitive in its initial state; snapshot(obj) is
    everything a failed call must leave as it was; works(obj) is a short
    functional check, run in the initial state. states maps a state name to
    (enter, leave): enter puts a fresh primitive in that state before the bad
    call, and leave brings it back to the initial state. rescue, if given,
    unblocks a call that wrongly waits instead of raising, so that a
    regression fails the row instead of hanging it."""

    make: Callable[[], Any]
    snapshot: Callable[[Any], object]
    works: Callable[[Any], None]
    states: Mapping[str, tuple[Callable[[Any], object], Callable[[Any], object]]] = field(default_factory=dict)
    rescue: Callable[[Any], object] | None = None


def _nothing(obj: object) -> None:
    return None


def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting for another thread"
        time.sleep(0.0005)


IDLE_MUTEX = MutexState(False, False, False, 0, 0, 0)
IDLE_RW = RWMutexState(readers=0, writer=False, reader_wait=0, w_locked=False)


def mutex_works(m: gosync.Mutex) -> None:
    assert not m.locked()
    assert m.try_lock() and m.locked() and not m.try_lock()
    m.unlock()
    assert m.lock(timeout=0) is True
    assert m.acquire(False) is False
    m.release()
    with m:
        assert m.locked()
    assert m._debug_state() == IDLE_MUTEX


def rwmutex_works(rw: gosync.RWMutex) -> None:
    assert rw.rlock(timeout=0) and rw.try_rlock()  # two readers at once
    assert not rw.try_lock()  # readers keep a writer out
    rw.runlock()
    rw.runlock()
    assert rw.lock(timeout=0) and not rw.try_rlock() and not rw.try_lock()
    rw.unlock()
    with rw.rlocker():
        assert rw._debug_state().readers == 1
    with rw:
        assert rw._debug_state().writer
    assert rw._debug_state() == IDLE_RW


def rlocker_works(rl: RLocker) -> None:
    assert rl.acquire() is True
    rl.release()
    assert rl.try_lock()
    rl.unlock()
    rwmutex_works(rl.rwmutex)


def waitgroup_works(wg: gosync.WaitGroup) -> None:
    assert wg.wait(timeout=0) is True
    wg.add()  # delta=1, add's default
    wg.add(1)
    assert wg._debug_state() == WaitGroupState(2, 0)
    assert wg.wait(timeout=0) is False
    wg.done()
    wg.add(-1)
    wg.go(lambda: None)
    assert wg.wait(timeout=10) is True
    assert wg._debug_state() == WaitGroupState(0, 0)


def chan_works(ch: gosync.Chan) -> None:
    assert ch.send(1, timeout=0) is True and len(ch) == 1
    assert ch.send(2, timeout=0) is False  # full: capacity 1
    assert ch.recv() == 1
    with pytest.raises(TimeoutError):
        ch.recv_ok(timeout=0)
    assert gosync.select((ch.send, 3)) == (0, None, True)
    assert gosync.select(None, ch.recv) == (1, 3, True)
    assert gosync.select(ch.recv, block=False) == (-1, None, False)
    assert ch._debug_state() == ChanState(0, 1, False, 0, 0, 0)


def closed_chan() -> gosync.Chan:
    ch = gosync.Chan(1)
    ch.close()
    return ch


def closed_chan_works(ch: gosync.Chan) -> None:
    assert ch.recv() is None and ch.recv_ok(timeout=0) == (None, False) and list(ch) == []
    assert gosync.select(ch.recv) == (0, None, False)
    assert ch._debug_state() == ChanState(0, 1, True, 0, 0, 0)


def _lock_state(L: Any) -> object:
    if isinstance(L, gosync.Mutex):
        return L._debug_state()
    if isinstance(L, RLocker):
        return L.rwmutex._debug_state()
    return L.locked()  # threading.Lock


def cond_snapshot(c: gosync.Cond) -> object:
    return c._debug_state(), _lock_state(c.L)


def cond_works(c: gosync.Cond) -> None:
    with c.L:
        assert c.wait(timeout=0.001) is False  # nobody signals; L is held again
    woke: list[bool] = []

    def waiter() -> None:
        with c.L:
            woke.append(c.wait(timeout=10))

    t = threading.Thread(target=waiter)
    t.start()
    # Once the waiter holds a ticket, a signal is its: no sleep needed.
    _eventually(lambda: c._debug_state().waiters == 1)
    c.signal()
    t.join(10)
    assert woke == [True]
    c.broadcast()  # nobody waits: a no-op
    assert c._debug_state() == CondState(0, 0)


def cond_probe(make_lock: Callable[[], Any]) -> Probe:
    return Probe(
        make=lambda: gosync.Cond(make_lock()),
        snapshot=cond_snapshot,
        works=cond_works,
        states={"L held": (lambda c: c.L.acquire(), lambda c: c.L.release())},
        rescue=lambda c: c.broadcast(),
    )


def once_snapshot(o: gosync.Once) -> object:
    return o._done, o._flag.load(), o._m.locked()


def once_works(o: gosync.Once) -> None:
    calls: list[int] = []
    was_done = o._done
    o.do(lambda: calls.append(1))
    o.do(lambda: calls.append(2))
    assert calls == ([] if was_done else [1])


def once_functions_work(_: object) -> None:
    for wrap in (gosync.once_func, gosync.once_value, gosync.once_values):
        calls: list[int] = []
        f = wrap(lambda: calls.append(1) or (1,))
        f()
        f()
        assert calls == [1], wrap


class OnceCall:
    """The callable returned by a once_* function, and the calls of its fn."""

    def __init__(self, wrap: Callable[[Callable[[], Any]], Callable[[], Any]]) -> None:
        self.calls: list[int] = []
        self.fn = wrap(lambda: self.calls.append(1) or (1,))


def once_call_works(oc: OnceCall) -> None:
    oc.fn()
    oc.fn()
    assert oc.calls == [1]


def map_snapshot(m: gosync.Map) -> object:
    # Values by identity: a row stores a value whose == raises.
    items: dict[Any, int] = {}
    m.range(lambda k, v: items.__setitem__(k, id(v)))
    return items


def map_works(m: gosync.Map) -> None:
    before = map_snapshot(m)
    m.store("probe", 1)
    assert m.load("probe") == (1, True)
    assert m.load_or_store("probe", 2) == (1, True)
    assert m.swap("probe", 3) == (1, True)
    assert m.compare_and_swap("probe", 3, 4)
    assert m.compare_and_delete("probe", 4)
    assert m.load_and_delete("probe") == (None, False)
    m.delete("probe")
    assert map_snapshot(m) == before


def map_with_key() -> gosync.Map:
    m = gosync.Map()
    m.store("k", 1)
    return m


def pool_snapshot(p: gosync.Pool) -> object:
    # A fresh pool's lists are empty, so a collection that rotates them
    # during the row cannot change this.
    return p.new, tuple(p._shared), tuple(p._victim)


def pool_works(p: gosync.Pool) -> None:
    item = bytearray(1)
    p.put(item)
    assert p.get() is item  # this thread's private slot (or its victim)
    assert p.get() == []  # empty: made by new
    p.put(None)  # a no-op


def int_works(x: Any) -> None:
    v = x.load()
    x.store(6)
    assert x.add(1) == 7
    assert x.compare_and_swap(7, 3) and not x.compare_and_swap(7, 4)
    assert x.and_(1) == 3 and x.or_(4) == 1 and x.load() == 5
    assert x.swap(v) == 5 and x.load() == v


def bool_works(b: Bool) -> None:
    v = b.load()
    b.store(False)
    assert b.swap(True) is False
    assert b.compare_and_swap(True, False) and not b.compare_and_swap(True, False)
    assert b.load() is False
    b.store(v)


def value_works(v: Value) -> None:
    cur = v.load()
    if cur is None:
        v.store(1)
        cur = 1
    assert v.swap(2) == cur
    assert v.compare_and_swap(2, 3) and not v.compare_and_swap(2, 4)
    v.store(cur)
    assert v.load() == cur


def value_holding_1() -> Value:
    v: Value = Value()
    v.store(1)
    return v


def lockers_work(_: object) -> None:
    assert isinstance(gosync.Mutex(), gosync.Locker)
    assert isinstance(gosync.RWMutex().rlocker(), gosync.Locker)


def _load(x: Any) -> object:
    return x.load()


PROBES: dict[str, Probe] = {
    "Mutex": Probe(gosync.Mutex, lambda m: m._debug_state(), mutex_works),
    "RWMutex": Probe(
        gosync.RWMutex,
        lambda rw: rw._debug_state(),
        rwmutex_works,
        states={
            "read-locked": (lambda rw: rw.rlock(), lambda rw: rw.runlock()),
            "write-locked": (lambda rw: rw.lock(), lambda rw: rw.unlock()),
        },
    ),
    "RLocker": Probe(
        lambda: gosync.RWMutex().rlocker(),
        lambda rl: rl.rwmutex._debug_state(),
        rlocker_works,
        states={"write-locked": (lambda rl: rl.rwmutex.lock(), lambda rl: rl.rwmutex.unlock())},
    ),
    "WaitGroup": Probe(
        gosync.WaitGroup,
        lambda wg: wg._debug_state(),
        waitgroup_works,
        states={
            "counter 2": (lambda wg: wg.add(2), lambda wg: wg.add(-2)),
            "counter 2**31-1": (lambda wg: wg.add(2**31 - 1), lambda wg: wg.add(-(2**31 - 1))),
        },
    ),
    "Cond": cond_probe(gosync.Mutex),
    "Cond(rlocker)": cond_probe(lambda: gosync.RWMutex().rlocker()),
    "Cond(threading.Lock)": cond_probe(threading.Lock),
    "Once": Probe(
        gosync.Once,
        once_snapshot,
        once_works,
        states={"done": (lambda o: o.do(lambda: None), _nothing)},
    ),
    "once_*": Probe(lambda: None, _nothing, once_functions_work),
    "once_func(fn)": Probe(lambda: OnceCall(gosync.once_func), lambda oc: len(oc.calls), once_call_works),
    "once_value(fn)": Probe(lambda: OnceCall(gosync.once_value), lambda oc: len(oc.calls), once_call_works),
    "Locker": Probe(lambda: None, _nothing, lockers_work),
    "Map": Probe(
        map_with_key,
        map_snapshot,
        map_works,
        states={
            "holding a value whose == raises": (lambda m: m.store("boom", RaisesOnEq()), lambda m: m.delete("boom")),
        },
    ),
    "empty Map": Probe(gosync.Map, map_snapshot, map_works),
    "Pool": Probe(lambda: gosync.Pool(new=list), pool_snapshot, pool_works),
    "Chan": Probe(
        lambda: gosync.Chan(1),
        lambda ch: ch._debug_state(),
        chan_works,
        states={"holding a value": (lambda ch: ch.send("v"), lambda ch: ch.recv())},
    ),
    "closed Chan": Probe(closed_chan, lambda ch: ch._debug_state(), closed_chan_works),
    "select": Probe(
        lambda: gosync.Chan(1),
        lambda ch: ch._debug_state(),
        chan_works,
        states={"holding a value": (lambda ch: ch.send("v"), lambda ch: ch.recv())},
    ),
    "Int32": Probe(lambda: Int32(5), _load, int_works),
    "Uint32": Probe(lambda: Uint32(5), _load, int_works),
    "Int64": Probe(lambda: Int64(5), _load, int_works),
    "Uint64": Probe(lambda: Uint64(5), _load, int_works),
    "Bool": Probe(lambda: Bool(True), _load, bool_works),
    "Value": Probe(value_holding_1, _load, value_works),
    "empty Value": Probe(Value, _load, value_works),
}
for _name in ("once_func", "once_value", "once_values"):
    PROBES[_name] = PROBES["once_*"]


def goroutine_works(_: object) -> None:
    ran = threading.Event()
    t = gosync.go(ran.set)
    t.join(10)
    assert ran.is_set() and gosync.num_goroutine() == threading.active_count()


# A refused go() starts no thread: the live-thread count is its state.
PROBES["go"] = PROBES["num_goroutine"] = Probe(lambda: None, lambda _: threading.active_count(), goroutine_works)


class Boom(Exception):
    """Raised by user code that gosync calls; it must reach the caller."""


def raise_boom(*args: object) -> NoReturn:
    raise Boom("from f")


class RaisesOnEq:
    def __eq__(self, other: object) -> bool:
        raise Boom("__eq__")

    __hash__ = object.__hash__


class RaisesOnHash:
    def __hash__(self) -> int:
        raise Boom("__hash__")


class IndexReturnsStr:
    def __index__(self) -> Any:
        return "1"


class NotALock:
    """Has the names of a Locker, but they are not callable."""

    lock = unlock = acquire = release = None


# ---- The table ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    api: str  # the public callable covered: "Mutex.lock", "Mutex" (constructor), "once_func"
    on: str  # the key of the probe
    state: str | None  # a key of the probe's states, or None for the initial state
    call: Callable[[Any], object]  # the bad call, given the primitive
    error: type[BaseException]
    fragment: str  # part of the message


def case(
    api: str,
    what: str,
    call: Callable[[Any], object],
    error: type[BaseException],
    fragment: str,
    *,
    on: str | None = None,
    state: str | None = None,
) -> Any:
    """One row. `what` names the bad input; the probe is the class named in
    api unless `on` says otherwise."""
    on = on or api.split(".")[0]
    assert on in PROBES, on
    assert state is None or state in PROBES[on].states, (on, state)
    ident = f"{api}-{what}" + (f"-{state}" if state else "")
    return pytest.param(Case(api, on, state, call, error, fragment), id=ident)


def extra_argument(api: str) -> Any:
    """A row for a method that takes no argument, called with one."""
    method = api.split(".")[-1]
    return case(api, "an extra argument", lambda obj: getattr(obj, method)(None), TypeError, "argument")


def copy_rows(cls_name: str, public: str) -> list[Any]:
    """copy.copy, copy.deepcopy and pickle (protocols 0 and highest) of a
    primitive: TypeError, naming the class as the user reaches it."""
    message = f"{public} must not be copied or pickled"
    attempts: list[tuple[str, Callable[[Any], object]]] = [
        ("copy.copy", copy.copy),
        ("copy.deepcopy", copy.deepcopy),
        ("pickle protocol 0", lambda obj: pickle.dumps(obj, 0)),
        ("pickle highest protocol", lambda obj: pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)),
    ]
    return [case(cls_name, what, attempt, TypeError, message) for what, attempt in attempts]


# Timeouts that every timed call refuses (docs/DESIGN.md, "The Python layer's
# contract", and threading.Lock.acquire's rules for what is too large). None
# is valid for all but acquire, and -1 for acquire only: rows below.
BAD_TIMEOUTS: list[tuple[str, object, type[BaseException], str]] = [
    ("a str", "1", TypeError, "must be a number"),
    ("a complex", 1j, TypeError, "must be a number"),
    ("a Decimal", Decimal("0.5"), TypeError, "must be a number"),  # not a numbers.Real, as for threading.Lock
    ("NaN", math.nan, ValueError, "NaN"),
    ("negative", -0.5, ValueError, "non-negative"),
    ("-inf", -math.inf, ValueError, "non-negative"),
    ("inf", math.inf, OverflowError, "too large"),
    ("1e300", 1e300, OverflowError, "too large"),
    ("a huge int", 10**30, OverflowError, "too large"),
    ("twice TIMEOUT_MAX", threading.TIMEOUT_MAX * 2, OverflowError, "too large"),
]

# Every call that takes a timeout, as call(primitive, timeout), and the state
# it runs in. Each would return at once with a valid timeout (nothing holds
# the lock, the counter is 0), so a validation that went missing fails the
# row instead of hanging it; Cond.wait's probe has a rescue.
TIMED: list[tuple[str, Callable[[Any, Any], object], str | None]] = [
    ("Mutex.lock", lambda m, t: m.lock(t), None),
    ("Mutex.acquire", lambda m, t: m.acquire(True, t), None),
    ("RWMutex.lock", lambda rw, t: rw.lock(t), None),
    ("RWMutex.rlock", lambda rw, t: rw.rlock(t), None),
    ("RWMutex.acquire", lambda rw, t: rw.acquire(True, t), None),
    ("RLocker.lock", lambda rl, t: rl.lock(t), None),
    ("RLocker.acquire", lambda rl, t: rl.acquire(True, t), None),
    ("WaitGroup.wait", lambda wg, t: wg.wait(t), None),
    ("Cond.wait", lambda c, t: c.wait(t), "L held"),
    ("Once.do", lambda o, t: o.do(lambda: None, timeout=t), None),
    ("Chan.send", lambda ch, t: ch.send("x", t), None),
    ("Chan.recv", lambda ch, t: ch.recv(t), "holding a value"),
    ("Chan.recv_ok", lambda ch, t: ch.recv_ok(timeout=t), "holding a value"),
    ("select", lambda ch, t: gosync.select(ch.recv, timeout=t), "holding a value"),
]


def timeout_rows() -> Iterator[Any]:
    for api, call, state in TIMED:
        bad = list(BAD_TIMEOUTS)
        if api.endswith(".acquire"):
            # threading.Lock's protocol: -1 means none, None is not a number.
            bad.append(("None", None, TypeError, "-1 for none"))
        else:
            bad.append(("-1", -1, ValueError, "non-negative"))
        for what, timeout, error, fragment in bad:
            yield case(api, f"timeout {what}", lambda obj, c=call, t=timeout: c(obj, t), error, fragment, state=state)
        if api.endswith(".acquire"):
            non_blocking = "non-blocking with a timeout"
            yield case(api, non_blocking, lambda obj: obj.acquire(False, 0.5), ValueError, "non-blocking")
            yield case(api, f"{non_blocking} str", lambda obj: obj.acquire(False, "1"), TypeError, "must be a number")


INT_TYPES: list[tuple[str, type, int, int, int]] = [
    # name, class, width, lowest value, highest value
    ("Int32", Int32, 32, -(2**31), 2**31 - 1),
    ("Uint32", Uint32, 32, 0, 2**32 - 1),
    ("Int64", Int64, 64, -(2**63), 2**63 - 1),
    ("Uint64", Uint64, 64, 0, 2**64 - 1),
]


def int_rows(name: str, cls: type, bits: int, lo: int, hi: int) -> list[Any]:
    """The rows of one atomic integer type: values outside its range, bit
    patterns outside -2**bits .. 2**bits - 1 (add, and_, or_), non-ints."""
    rng, pattern, not_int = "argument out of range: it must be from", "bit pattern is from", "argument must be an int"
    return [
        case(name, "above its range", lambda _: cls(hi + 1), OverflowError, rng),
        case(name, "a str", lambda _: cls("1"), TypeError, not_int),
        case(name, "two arguments", lambda _: cls(1, 2), TypeError, "argument"),
        case(f"{name}.store", "above its range", lambda x: x.store(hi + 1), OverflowError, rng),
        case(f"{name}.store", "below its range", lambda x: x.store(lo - 1), OverflowError, rng),
        case(f"{name}.store", "a float", lambda x: x.store(1.0), TypeError, not_int),
        case(f"{name}.store", "None", lambda x: x.store(None), TypeError, not_int),
        case(f"{name}.store", "a bad __index__", lambda x: x.store(IndexReturnsStr()), TypeError, "__index__ returned non-int"),
        case(f"{name}.swap", "above its range", lambda x: x.swap(hi + 1), OverflowError, rng),
        case(f"{name}.swap", "a str", lambda x: x.swap("1"), TypeError, not_int),
        case(f"{name}.compare_and_swap", "new above its range", lambda x: x.compare_and_swap(5, hi + 1), OverflowError, rng),
        case(f"{name}.compare_and_swap", "old below its range", lambda x: x.compare_and_swap(lo - 1, 6), OverflowError, rng),
        case(f"{name}.compare_and_swap", "a float", lambda x: x.compare_and_swap(5, 6.0), TypeError, not_int),
        case(f"{name}.compare_and_swap", "one argument", lambda x: x.compare_and_swap(5), TypeError, "takes 2 arguments"),
        case(f"{name}.add", "2**width", lambda x: x.add(2**bits), OverflowError, pattern),
        case(f"{name}.add", "below -2**width", lambda x: x.add(-(2**bits) - 1), OverflowError, pattern),
        case(f"{name}.add", "a float", lambda x: x.add(1.0), TypeError, not_int),
        case(f"{name}.add", "no argument", lambda x: x.add(), TypeError, "argument"),
        case(f"{name}.and_", "2**width", lambda x: x.and_(2**bits), OverflowError, pattern),
        case(f"{name}.and_", "a str", lambda x: x.and_("1"), TypeError, not_int),
        case(f"{name}.or_", "below -2**width", lambda x: x.or_(-(2**bits) - 1), OverflowError, pattern),
        case(f"{name}.or_", "None", lambda x: x.or_(None), TypeError, not_int),
        extra_argument(f"{name}.load"),
        *copy_rows(name, f"gosync.atomic.{name}"),
    ]


NIL, TYPED = "of nil value into Value", "of inconsistently typed value"
UNLOCK_MUTEX = "sync: unlock of unlocked mutex"
UNLOCK_RW, RUNLOCK_RW = "sync: Unlock of unlocked RWMutex", "sync: RUnlock of unlocked RWMutex"
NEGATIVE = "sync: negative WaitGroup counter"
SEND_CLOSED = "send on closed channel"

CASES: list[Any] = [
    # Mutex: misuse is Go's error and changes nothing.
    case("Mutex", "an argument", lambda _: gosync.Mutex(1), TypeError, "takes no arguments"),
    case("Mutex.unlock", "of unlocked", lambda m: m.unlock(), SyncError, UNLOCK_MUTEX),
    case("Mutex.release", "of unlocked", lambda m: m.release(), SyncError, UNLOCK_MUTEX),
    case("Mutex.__exit__", "of unlocked", lambda m: m.__exit__(None, None, None), SyncError, UNLOCK_MUTEX),
    case("Mutex.lock", "two timeouts", lambda m: m.lock(1, 2), TypeError, "positional argument"),
    extra_argument("Mutex.unlock"),
    extra_argument("Mutex.release"),
    extra_argument("Mutex.try_lock"),
    extra_argument("Mutex.locked"),
    *copy_rows("Mutex", "gosync.Mutex"),
    # RWMutex: Unlock without the write lock, RUnlock without a read lock.
    case("RWMutex", "an argument", lambda _: gosync.RWMutex(1), TypeError, "takes no arguments"),
    case("RWMutex.unlock", "of unlocked", lambda rw: rw.unlock(), SyncError, UNLOCK_RW),
    case("RWMutex.unlock", "of a read lock", lambda rw: rw.unlock(), SyncError, UNLOCK_RW, state="read-locked"),
    case("RWMutex.release", "of unlocked", lambda rw: rw.release(), SyncError, UNLOCK_RW),
    case("RWMutex.__exit__", "of unlocked", lambda rw: rw.__exit__(None, None, None), SyncError, UNLOCK_RW),
    case("RWMutex.runlock", "of unlocked", lambda rw: rw.runlock(), SyncError, RUNLOCK_RW),
    case("RWMutex.runlock", "of the write lock", lambda rw: rw.runlock(), SyncError, RUNLOCK_RW, state="write-locked"),
    case("RWMutex.rlock", "two timeouts", lambda rw: rw.rlock(1, 2), TypeError, "positional argument"),
    extra_argument("RWMutex.try_lock"),
    extra_argument("RWMutex.try_rlock"),
    extra_argument("RWMutex.rlocker"),
    extra_argument("RWMutex.runlock"),
    *copy_rows("RWMutex", "gosync.RWMutex"),
    # RLocker, the read lock as a Locker (from RWMutex.rlocker()).
    case("RLocker", "not an RWMutex", lambda rl: type(rl)(5), TypeError, "needs a gosync.RWMutex"),
    case("RLocker", "no argument", lambda rl: type(rl)(), TypeError, "argument"),
    case("RLocker.unlock", "of unlocked", lambda rl: rl.unlock(), SyncError, RUNLOCK_RW),
    case("RLocker.unlock", "of the write lock", lambda rl: rl.unlock(), SyncError, RUNLOCK_RW, state="write-locked"),
    case("RLocker.release", "of unlocked", lambda rl: rl.release(), SyncError, RUNLOCK_RW),
    case("RLocker.__exit__", "of unlocked", lambda rl: rl.__exit__(None, None, None), SyncError, RUNLOCK_RW),
    case("RLocker.lock", "two timeouts", lambda rl: rl.lock(1, 2), TypeError, "positional argument"),
    extra_argument("RLocker.try_lock"),
    *copy_rows("RLocker", "gosync.RLocker"),
    # WaitGroup: Go's counter rules; the counter is an int32 as in Go.
    case("WaitGroup", "an argument", lambda _: gosync.WaitGroup(1), TypeError, "takes no arguments"),
    case("WaitGroup.done", "at counter 0", lambda wg: wg.done(), SyncError, NEGATIVE),
    case("WaitGroup.add", "-1 at counter 0", lambda wg: wg.add(-1), SyncError, NEGATIVE),
    case("WaitGroup.add", "-3 at counter 2", lambda wg: wg.add(-3), SyncError, NEGATIVE, state="counter 2"),
    case("WaitGroup.add", "-2**70", lambda wg: wg.add(-(2**70)), SyncError, NEGATIVE),
    case("WaitGroup.add", "2**31", lambda wg: wg.add(2**31), OverflowError, "overflows int32"),
    case("WaitGroup.add", "2**70", lambda wg: wg.add(2**70), OverflowError, "overflows int32"),
    # Fits a C int64, but counter + delta did not (signed overflow in C).
    case("WaitGroup.add", "2**63-1 at counter 2", lambda wg: wg.add(2**63 - 1), OverflowError, "overflows int32", state="counter 2"),
    case("WaitGroup.add", "1 past int32", lambda wg: wg.add(1), OverflowError, "overflows int32", state="counter 2**31-1"),
    case("WaitGroup.add", "a float", lambda wg: wg.add(1.0), TypeError, "delta must be an int"),
    case("WaitGroup.add", "a str", lambda wg: wg.add("1"), TypeError, "delta must be an int"),
    case("WaitGroup.add", "None", lambda wg: wg.add(None), TypeError, "delta must be an int"),
    case("WaitGroup.add", "two arguments", lambda wg: wg.add(1, 2), TypeError, "at most 1 argument"),
    case("WaitGroup.go", "a non-callable", lambda wg: wg.go(5), TypeError, "needs a callable"),
    case("WaitGroup.go", "no fn", lambda wg: wg.go(), TypeError, "argument"),
    case("WaitGroup.wait", "two timeouts", lambda wg: wg.wait(0, 1), TypeError, "positional argument"),
    extra_argument("WaitGroup.done"),
    *copy_rows("WaitGroup", "gosync.WaitGroup"),
    # Cond: L must be a lock; wait needs L held; L cannot be swapped.
    case("Cond", "no L", lambda _: gosync.Cond(), TypeError, "argument"),
    case("Cond", "an int for L", lambda _: gosync.Cond(5), TypeError, "needs a Locker"),
    case("Cond", "non-callable lock methods", lambda _: gosync.Cond(NotALock()), TypeError, "needs a Locker"),
    case("Cond.wait", "without holding a Mutex L", lambda c: c.wait(1), SyncError, UNLOCK_MUTEX),
    case("Cond.wait", "without holding an rlocker L", lambda c: c.wait(1), SyncError, RUNLOCK_RW, on="Cond(rlocker)"),
    case(
        "Cond.wait",
        "without holding a threading.Lock L",
        lambda c: c.wait(1),
        RuntimeError,
        "release un",  # CPython: "release unlocked lock"; PyPy: "cannot release un-acquired lock"
        on="Cond(threading.Lock)",
    ),
    case("Cond.wait", "two timeouts", lambda c: c.wait(0, 1), TypeError, "positional argument", state="L held"),
    case("Cond.L", "reassigned", lambda c: setattr(c, "L", gosync.Mutex()), AttributeError, "Cond.L is fixed"),
    extra_argument("Cond.signal"),
    extra_argument("Cond.broadcast"),
    *copy_rows("Cond", "gosync.Cond"),
    # Once and the once_* functions: fn must be callable (until Once is done,
    # after which do() does not look at fn: see Once's docstring).
    case("Once", "an argument", lambda _: gosync.Once(1), TypeError, "argument"),
    case("Once.do", "a non-callable", lambda o: o.do(5), TypeError, "needs a callable"),
    case("Once.do", "no fn", lambda o: o.do(), TypeError, "argument"),
    case("Once.do", "no fn, once done", lambda o: o.do(), TypeError, "argument", state="done"),
    case("go", "a non-callable", lambda _: gosync.go(5), TypeError, "go() needs a callable, not int"),
    case("num_goroutine", "an argument", lambda _: gosync.num_goroutine(1), TypeError, "positional argument"),
    case("once_func", "a non-callable", lambda _: gosync.once_func(5), TypeError, "once_func() needs a callable"),
    case("once_value", "a non-callable", lambda _: gosync.once_value(None), TypeError, "once_value() needs a callable"),
    case("once_values", "a non-callable", lambda _: gosync.once_values("f"), TypeError, "once_values() needs a callable"),
    case(
        "once_values",
        "fn returning a non-iterable",
        lambda _: gosync.once_values(lambda: 5)(),
        TypeError,
        "once_values: fn returned int, not an iterable of values",
    ),
    case("once_func", "no fn", lambda _: gosync.once_func(), TypeError, "argument"),
    case("once_func", "its result given an argument", lambda oc: oc.fn(1), TypeError, "argument", on="once_func(fn)"),
    case("once_value", "its result given an argument", lambda oc: oc.fn(1), TypeError, "argument", on="once_value(fn)"),
    *copy_rows("Once", "gosync.Once"),
    # Locker is a Protocol, for isinstance checks and type hints.
    case("Locker", "instantiated", lambda _: gosync.Locker(), TypeError, "Protocols cannot be instantiated"),
    # Map: keys must be hashable; errors from user code reach the caller.
    case("Map", "an argument", lambda _: gosync.Map({}), TypeError, "argument"),
    case("Map.store", "an unhashable key", lambda m: m.store([], 1), TypeError, "unhashable"),
    case("Map.store", "no value", lambda m: m.store("k"), TypeError, "argument"),
    case("Map.load", "an unhashable key", lambda m: m.load([]), TypeError, "unhashable"),
    case("Map.load_or_store", "an unhashable key", lambda m: m.load_or_store([], 1), TypeError, "unhashable"),
    case("Map.load_or_store", "a key whose hash raises", lambda m: m.load_or_store(RaisesOnHash(), 1), Boom, "__hash__"),
    case("Map.load_and_delete", "an unhashable key", lambda m: m.load_and_delete({}), TypeError, "unhashable"),
    case("Map.delete", "an unhashable key", lambda m: m.delete([]), TypeError, "unhashable"),
    case("Map.swap", "an unhashable key", lambda m: m.swap([], 1), TypeError, "unhashable"),
    case("Map.compare_and_swap", "an unhashable key", lambda m: m.compare_and_swap([], 1, 2), TypeError, "unhashable"),
    case(
        "Map.compare_and_swap",
        "a stored value whose == raises",
        lambda m: m.compare_and_swap("boom", 1, 2),
        Boom,
        "__eq__",
        state="holding a value whose == raises",
    ),
    case("Map.compare_and_delete", "an unhashable key", lambda m: m.compare_and_delete([], 1), TypeError, "unhashable"),
    case("Map.range", "a non-callable", lambda m: m.range(5), TypeError, "Map.range() needs a callable"),
    case("Map.range", "None, on an empty map", lambda m: m.range(None), TypeError, "needs a callable", on="empty Map"),
    case("Map.range", "an f that raises", lambda m: m.range(raise_boom), Boom, "from f"),
    extra_argument("Map.clear"),
    case("Map.get", "an unhashable key", lambda m: m.get([], 1), TypeError, "unhashable"),
    case("Map.get", "no key", lambda m: m.get(), TypeError, "argument"),
    extra_argument("Map.items"),
    case("Map.__getitem__", "an unhashable key", lambda m: m[[]], TypeError, "unhashable"),
    case("Map.__setitem__", "an unhashable key", lambda m: m.__setitem__([], 1), TypeError, "unhashable"),
    case("Map.__delitem__", "an unhashable key", lambda m: m.__delitem__([]), TypeError, "unhashable"),
    case("Map.__contains__", "an unhashable key", lambda m: [] in m, TypeError, "unhashable"),
    *copy_rows("Map", "gosync.Map"),
    # Pool: new is None or a callable, checked when it is set.
    case("Pool", "a non-callable new", lambda _: gosync.Pool(new=5), TypeError, "callable or None"),
    case("Pool", "two arguments", lambda _: gosync.Pool(list, list), TypeError, "argument"),
    case("Pool.new", "set to a non-callable", lambda p: setattr(p, "new", "x"), TypeError, "callable or None"),
    case("Pool.put", "no item", lambda p: p.put(), TypeError, "argument"),
    extra_argument("Pool.get"),
    *copy_rows("Pool", "gosync.Pool"),
    # Atomic integers, by type.
    *(row for spec in INT_TYPES for row in int_rows(*spec)),
    # Bool takes True or False only: 1 and 0 are not bools.
    case("Bool", "1", lambda _: Bool(1), TypeError, "argument must be a bool"),
    case("Bool.store", "1", lambda b: b.store(1), TypeError, "argument must be a bool"),
    case("Bool.store", "None", lambda b: b.store(None), TypeError, "argument must be a bool"),
    case("Bool.swap", "0", lambda b: b.swap(0), TypeError, "argument must be a bool"),
    case("Bool.compare_and_swap", "ints", lambda b: b.compare_and_swap(1, 0), TypeError, "argument must be a bool"),
    case("Bool.compare_and_swap", "one argument", lambda b: b.compare_and_swap(True), TypeError, "takes 2 arguments"),
    extra_argument("Bool.load"),
    *copy_rows("Bool", "gosync.atomic.Bool"),
    # Value: Go's rules and messages; the Value holds the int 1.
    case("Value", "an argument", lambda _: Value(1), TypeError, "argument"),
    case("Value.store", "None", lambda v: v.store(None), ValueError, f"sync/atomic: store {NIL}"),
    case("Value.store", "None, when empty", lambda v: v.store(None), ValueError, f"store {NIL}", on="empty Value"),
    case("Value.store", "a str", lambda v: v.store("x"), TypeError, f"sync/atomic: store {TYPED} into Value"),
    case("Value.store", "a bool", lambda v: v.store(True), TypeError, f"store {TYPED}"),  # bool is not int here
    case("Value.swap", "None", lambda v: v.swap(None), ValueError, f"sync/atomic: swap {NIL}"),
    case("Value.swap", "a float", lambda v: v.swap(1.0), TypeError, f"sync/atomic: swap {TYPED} into Value"),
    case("Value.compare_and_swap", "new None", lambda v: v.compare_and_swap(1, None), ValueError, f"compare and swap {NIL}"),
    case(
        "Value.compare_and_swap",
        "new None, when empty",
        lambda v: v.compare_and_swap(None, None),
        ValueError,
        f"compare and swap {NIL}",
        on="empty Value",
    ),
    case(
        "Value.compare_and_swap",
        "old and new of two types",
        lambda v: v.compare_and_swap(1, "x"),
        TypeError,
        "sync/atomic: compare and swap of inconsistently typed values",
    ),
    case(
        "Value.compare_and_swap",
        "new of another type than stored",
        lambda v: v.compare_and_swap(None, "x"),
        TypeError,
        f"compare and swap {TYPED} into Value",
    ),
    extra_argument("Value.load"),
    *copy_rows("Value", "gosync.atomic.Value"),
    # Chan: Go's makechan and its panics; select's cases.
    # fmt: off
    case("Chan", "negative capacity", lambda _: gosync.Chan(-1), ValueError, "makechan: size out of range"),
    case("Chan", "capacity 2**31", lambda _: gosync.Chan(2**31), ValueError, "makechan: size out of range"),
    case("Chan", "capacity -2**70", lambda _: gosync.Chan(-(2**70)), ValueError, "makechan: size out of range"),
    case("Chan", "a float capacity", lambda _: gosync.Chan(1.0), TypeError, "must be an int"),
    case("Chan", "a str capacity", lambda _: gosync.Chan("1"), TypeError, "must be an int"),
    case("Chan", "None capacity", lambda _: gosync.Chan(None), TypeError, "must be an int"),
    case("Chan", "a bool capacity", lambda _: gosync.Chan(True), TypeError, "must be an int"),
    case("Chan", "two arguments", lambda _: gosync.Chan(1, 2), TypeError, "argument"),
    case("Chan.send", "no value", lambda ch: ch.send(), TypeError, "positional argument"),
    case("Chan.send", "a bad keyword", lambda ch: ch.send(1, deadline=1), TypeError, "unexpected keyword"),
    case("Chan.send", "on closed", lambda ch: ch.send(1), SyncError, SEND_CLOSED, on="closed Chan"),
    case("Chan.send", "with a timeout on closed", lambda ch: ch.send(1, 5), SyncError, SEND_CLOSED, on="closed Chan"),
    case("Chan.recv", "two timeouts", lambda ch: ch.recv(1, 2), TypeError, "positional argument"),
    case("Chan.recv_ok", "a bad keyword", lambda ch: ch.recv_ok(block=False), TypeError, "unexpected keyword"),
    case("Chan.close", "of closed", lambda ch: ch.close(), SyncError, "close of closed channel", on="closed Chan"),
    extra_argument("Chan.close"),
    *copy_rows("Chan", "gosync.Chan"),
    case("select", "an int case", lambda ch: gosync.select(ch.recv, 7), TypeError, "select case 1 must be"),
    case("select", "a send case, then a str", lambda ch: gosync.select((ch.send, 1), "x"), TypeError, "select case 1"),
    case("select", "recv_ok as a case", lambda ch: gosync.select(ch.recv_ok), TypeError, "select case 0"),
    case("select", "a one-tuple", lambda ch: gosync.select((ch.send,)), TypeError, "select case 0"),
    case("select", "a three-tuple", lambda ch: gosync.select((ch.send, 1, 2)), TypeError, "select case 0"),
    case("select", "a Mutex method", lambda ch: gosync.select((gosync.Mutex().unlock, 1)), TypeError, "select case 0"),
    case("select", "a bad keyword", lambda ch: gosync.select(ch.recv, default=True), TypeError, "unexpected keyword"),
    case("select", "send on closed", lambda ch: gosync.select((ch.send, 1)), SyncError, SEND_CLOSED, on="closed Chan"),
    # fmt: on
    # Every timeout-taking call, with every bad timeout.
    *timeout_rows(),
]


# ---- The tests -------------------------------------------------------------------


@contextmanager
def rescued(probe: Probe, obj: object) -> Iterator[None]:
    """Runs probe.rescue(obj) from another thread if the block is still
    running after 5 s (a bad call that waits instead of raising)."""
    if probe.rescue is None:
        yield
        return
    timer = threading.Timer(5, probe.rescue, (obj,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.mark.parametrize("c", CASES)
def test_bad_input_raises_documented_error_and_changes_nothing(c: Case) -> None:
    probe = PROBES[c.on]
    obj = probe.make()
    enter, leave = probe.states[c.state] if c.state else (_nothing, _nothing)
    enter(obj)
    before = probe.snapshot(obj)
    with rescued(probe, obj), pytest.raises(Exception) as info:
        c.call(obj)
    assert type(info.value) is c.error, f"{type(info.value).__name__}: {info.value}"
    assert c.fragment in str(info.value)
    assert probe.snapshot(obj) == before, "the failed call changed the primitive"
    leave(obj)
    probe.works(obj)


def public_callables() -> set[str]:
    """Every public callable: the functions and classes (constructors) of
    gosync.__all__ and gosync.atomic.__all__, RLocker (what rlocker()
    returns), and each public method that gosync defines on them (methods
    inherited from Python's own classes, such as BaseException's, are not
    gosync's API)."""
    found: set[str] = set()
    exported = [(n, getattr(gosync, n)) for n in gosync.__all__ if n != "atomic"]
    exported += [(n, getattr(gosync.atomic, n)) for n in gosync.atomic.__all__]
    exported.append(("RLocker", RLocker))
    for name, obj in exported:
        assert callable(obj), name
        found.add(name)
        if not isinstance(obj, type):
            continue
        for klass in obj.__mro__:
            if not klass.__module__.startswith("gosync"):
                continue
            methods = (attr for attr, value in vars(klass).items() if not attr.startswith("_") and callable(value))
            found.update(f"{name}.{attr}" for attr in methods)
    return found


# Public callables with no bad-input row, and why.
NO_ROW = {
    "SyncError": "an exception class: it takes any arguments, as every exception does",
    "LeaseLost": "an exception class (a SyncError): it takes any arguments, as every exception does",
    "Locker.lock": "a Protocol's stub; Locker() itself has a row",
    "Locker.unlock": "a Protocol's stub; Locker() itself has a row",
}


def _resolve(api: str) -> object:
    head, *rest = api.split(".")
    obj = RLocker if head == "RLocker" else getattr(gosync, head, None) or getattr(gosync.atomic, head)
    for attr in rest:
        obj = getattr(obj, attr)
    return obj


def test_every_public_callable_has_a_row() -> None:
    rows = [p.values[0] for p in CASES]
    covered = {r.api for r in rows}
    for api in covered:
        _resolve(api)  # a row names something that exists: no typo hides a gap
    missing = public_callables() - covered - NO_ROW.keys()
    assert not missing, f"public callables without a bad-input row: {sorted(missing)}"
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "two rows have the same id"
