"""gosync.atomic: the typed atomics and Value. Exact results, Go's wraparound,
bad input that changes nothing, Value's misuse messages, the GIL policy, and
hammer tests sized by GOSYNC_STRESS."""

from __future__ import annotations

import copy
import operator
import pickle
import threading
import time
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any

import pytest
from conftest import PYPY_GC, PYPY_GIL, STRESS, Guarded, pypy_cannot, run_threads, switches_during

from gosync.atomic import Bool, Int32, Int64, Uint32, Uint64, Value

# (class, bits, signed)
INT_TYPES = [(Int32, 32, True), (Uint32, 32, False), (Int64, 64, True), (Uint64, 64, False)]
INT_IDS = [t[0].__name__ for t in INT_TYPES]


def bounds(bits: int, signed: bool) -> tuple[int, int]:
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def wrap(x: int, bits: int, signed: bool) -> int:
    """x reduced to the type's range, as Go's arithmetic does."""
    x &= (1 << bits) - 1
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


class Index:
    """Not an int, but usable as one (like numpy's integers)."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __index__(self) -> int:
        return self.v


# ---- integers: the operations -----------------------------------------------


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_operations(cls: Any, bits: int, signed: bool) -> None:
    a = cls()
    assert a.load() == 0
    a.store(7)
    assert a.load() == 7
    assert a.swap(9) == 7 and a.load() == 9
    assert a.compare_and_swap(8, 1) is False and a.load() == 9
    assert a.compare_and_swap(9, 1) is True and a.load() == 1
    assert a.add(5) == 6 and a.load() == 6
    assert a.add(-2) == 4
    assert a.and_(0b0110) == 4 and a.load() == 4
    assert a.or_(0b0011) == 4 and a.load() == 7
    assert a.and_(0b0010) == 7 and a.load() == 2
    assert cls(12).load() == 12
    assert cls(value=Index(3)).load() == 3
    assert a.add(Index(1)) == 3
    assert a.add(True) == 4  # bool is an int


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_wraps_around_like_go(cls: Any, bits: int, signed: bool) -> None:
    lo, hi = bounds(bits, signed)
    a = cls(hi)
    assert a.add(1) == lo and a.load() == lo
    assert a.add(-1) == hi and a.load() == hi
    assert a.add(hi) == wrap(2 * hi, bits, signed)
    a.store(lo)
    assert a.add(-(1 << (bits - 1))) == wrap(lo - (1 << (bits - 1)), bits, signed)
    # The operand of add is taken modulo 2**bits: signed or unsigned.
    a.store(5)
    assert a.add((1 << bits) - 1) == 4  # all ones is -1
    assert a.add(-(1 << (bits - 1))) == wrap(4 - (1 << (bits - 1)), bits, signed)
    # and_/or_ masks too: ~flag clears a flag, also on unsigned types and
    # for the top bit.
    a.store(3)
    assert a.and_(~1) == 3 and a.load() == 2
    assert a.or_(-1) == 2 and a.load() == wrap(-1, bits, signed)
    assert a.and_(~(1 << (bits - 1))) == wrap(-1, bits, signed)
    assert a.load() == (1 << (bits - 1)) - 1


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_out_of_range_raises_and_stores_nothing(cls: Any, bits: int, signed: bool) -> None:
    lo, hi = bounds(bits, signed)
    a = cls(hi)
    for bad in (hi + 1, lo - 1, 1 << 200, -(1 << 200)):
        with pytest.raises(OverflowError, match=rf"{cls.__name__}\.store\(\) argument out of range"):
            a.store(bad)
        with pytest.raises(OverflowError):
            a.swap(bad)
        with pytest.raises(OverflowError):
            a.compare_and_swap(hi, bad)
        with pytest.raises(OverflowError):
            a.compare_and_swap(bad, lo)
        with pytest.raises(OverflowError):
            cls(bad)
        assert a.load() == hi
    # The operand of add, and_ and or_ is taken modulo 2**bits, from
    # -2**bits to 2**bits - 1.
    for bad in (1 << bits, -(1 << bits) - 1, 1 << 100, -(1 << 100)):
        for op in (a.add, a.and_, a.or_):
            with pytest.raises(OverflowError, match=rf"a {bits}-bit pattern is from"):
                op(bad)
        assert a.load() == hi
    b = cls(0)
    assert b.add(-(1 << bits)) == 0  # adds 0 modulo 2**bits
    assert b.add((1 << bits) - 1) == wrap(-1, bits, signed)
    assert b.and_(~((1 << bits) - 1)) == wrap(-1, bits, signed) and b.load() == 0
    # Both edges themselves are fine.
    a.store(lo)
    assert a.swap(hi) == lo
    assert a.compare_and_swap(hi, lo) and a.load() == lo


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
@pytest.mark.parametrize("bad", [1.0, 2.5, "1", b"1", None, Decimal(1), Fraction(1), 1j, [1]])
def test_int_non_int_raises_type_error_and_stores_nothing(
    cls: Any, bits: int, signed: bool, bad: object
) -> None:
    a = cls(5)
    for op in (a.store, a.swap, a.add, a.and_, a.or_):
        with pytest.raises(TypeError, match="argument must be an int"):
            op(bad)
    with pytest.raises(TypeError):
        a.compare_and_swap(5, bad)
    with pytest.raises(TypeError):
        a.compare_and_swap(bad, 6)
    assert a.load() == 5
    with pytest.raises(TypeError):
        cls(bad)


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_arity_errors(cls: Any, bits: int, signed: bool) -> None:
    a = cls(1)
    with pytest.raises(TypeError):
        a.compare_and_swap(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        a.compare_and_swap(1, 2, 3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        a.add()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        a.load(1)  # type: ignore[call-arg]
    assert a.load() == 1


def test_an_index_that_raises_propagates() -> None:
    class Bad:
        def __index__(self) -> int:
            raise ZeroDivisionError("boom")

    a = Int64(3)
    with pytest.raises(ZeroDivisionError):
        a.add(Bad())
    assert a.load() == 3


# ---- Bool ----------------------------------------------------------------------


def test_bool_operations() -> None:
    b = Bool()
    assert b.load() is False
    b.store(True)
    assert b.load() is True
    assert b.swap(False) is True and b.load() is False
    assert b.compare_and_swap(True, False) is False
    assert b.compare_and_swap(False, True) is True and b.load() is True
    assert Bool(True).load() is True


@pytest.mark.parametrize("bad", [1, 0, None, "True", 1.0])
def test_bool_takes_only_bools(bad: object) -> None:
    b = Bool(True)
    for op in (b.store, b.swap):
        with pytest.raises(TypeError, match="must be a bool"):
            op(bad)
    with pytest.raises(TypeError):
        b.compare_and_swap(True, bad)
    with pytest.raises(TypeError):
        b.compare_and_swap(bad, False)
    assert b.load() is True


# ---- Python's protocols: the atomic stands for the value it holds ---------------------


ALL_ATOMICS = [Int32, Uint32, Int64, Uint64, Bool]


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_truth_int_and_index_read_the_value(cls: Any, bits: int, signed: bool) -> None:
    lo, hi = bounds(bits, signed)
    assert not cls() and bool(cls()) is False
    a = cls(hi)
    assert a and bool(a) is True
    for v in (0, 1, 5, lo, hi):
        a.store(v)
        assert type(int(a)) is int and int(a) == v
        assert type(operator.index(a)) is int and operator.index(a) == v
        assert bool(a) is (v != 0)
    a.store(3)
    assert list(range(a)) == [0, 1, 2]
    assert "abcd"[a] == "d" and hex(a) == "0x3"
    assert cls(Int64(2)).load() == 2  # an atomic is an index like any other


def test_bool_truth_int_and_index_read_the_value() -> None:
    # The bug the issue names: `if stopping:` was always true.
    stopping = Bool(False)
    assert not stopping and bool(stopping) is False
    stopping.store(True)
    assert stopping and bool(stopping) is True
    assert int(stopping) == 1 and type(int(stopping)) is int
    assert operator.index(Bool(False)) == 0 and type(operator.index(Bool(True))) is int
    assert ["no", "yes"][Bool(True)] == "yes"


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_int_compares_by_value_with_numbers_and_atomics(cls: Any, bits: int, signed: bool) -> None:
    a = cls(5)
    assert a == 5 and 5 == a and a != 6 and not (a != 5)
    assert a == 5.0 and a == Fraction(5) and a == Decimal(5)
    assert a < 6 and a <= 5 and a > 4 and a >= 5 and not (a < 5) and not (a > 5)
    assert a < 5.5 and a > Fraction(9, 2) and 4 < a < 6
    assert a == cls(5) and a != cls(4) and a < Int64(6) and cls(5) == a
    assert a != "5" and a != None  # noqa: E711 - == with anything else is False, not an error
    with pytest.raises(TypeError):
        a < "6"  # noqa: B015
    a.store(7)
    assert a == 7 and a > 6  # each comparison reads the current value


def test_bool_compares_by_value() -> None:
    b = Bool(True)
    assert b == True and b != False and b == 1 and b == Bool(True) and b != Bool(False)  # noqa: E712
    assert Bool(False) < b


@pytest.mark.parametrize("cls", ALL_ATOMICS, ids=lambda c: c.__name__)
def test_atomics_stay_unhashable(cls: Any) -> None:
    # Their value changes, so no hash could agree with ==.
    with pytest.raises(TypeError, match="unhashable"):
        hash(cls())
    with pytest.raises(TypeError, match="unhashable"):
        {cls()}  # noqa: B018


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_in_place_operators_update_the_same_atomic(cls: Any, bits: int, signed: bool) -> None:
    lo, hi = bounds(bits, signed)
    a = cls(10)
    same = a
    a += 5
    assert a is same and a.load() == 15
    a -= 3
    assert a is same and a.load() == 12
    a &= 0b1010
    assert a is same and a.load() == 8
    a |= 0b0011
    assert a is same and a.load() == 11
    a += Index(1)
    assert a.load() == 12
    # They wrap around as add does, and -= takes the operand's full range.
    a.store(hi)
    a += 1
    assert a.load() == lo
    a -= 1
    assert a.load() == hi
    a.store(0)
    a -= -(1 << bits)  # the most negative bit pattern: subtracting it adds nothing mod 2**bits
    assert a.load() == 0
    a -= 1
    assert a.load() == wrap(-1, bits, signed)

    class Holder:
        n = cls(1)

    h = Holder()
    h.n += 2  # getattr, one atomic add, setattr of the same object
    assert h.n is Holder.n and Holder.n.load() == 3


@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_in_place_bad_operand_raises_and_changes_nothing(cls: Any, bits: int, signed: bool) -> None:
    a = cls(7)
    same = a
    for bad in (1.5, "1", None, Fraction(1), [1]):
        with pytest.raises(TypeError, match="unsupported operand type"):
            a += bad
        with pytest.raises(TypeError, match="unsupported operand type"):
            a -= bad
        assert a is same and a.load() == 7
    for too_big in (1 << bits, -(1 << bits) - 1):
        for op in (operator.iadd, operator.isub, operator.iand, operator.ior):
            with pytest.raises(OverflowError, match="out of range"):
                op(a, too_big)
    assert a is same and a.load() == 7
    with pytest.raises(TypeError):
        a + 1  # noqa: B018 - no binary +: it would make a plain int


def test_an_int_type_takes_a_bool_as_the_int_it_is() -> None:
    # The decision recorded in docs/DESIGN.md: bool is an int, int is not a bool.
    a = Int64(True)
    assert a.load() == 1 and type(a.load()) is int
    a += True
    assert a.load() == 2
    with pytest.raises(TypeError, match="must be a bool"):
        Bool(1)  # type: ignore[arg-type]


@pypy_cannot(PYPY_GIL)
def test_in_place_operators_keep_the_gil(fast_switching: None) -> None:
    ints = [cls() for cls, _, _ in INT_TYPES for _ in range(2000)]
    calls: list[Any] = []
    for a in ints:
        calls += [partial(operator.iadd, a, 7), partial(operator.isub, a, 1), partial(operator.iand, a, 6)]
        calls += [partial(operator.ior, a, 1), partial(bool, a), partial(operator.index, a), partial(operator.lt, a, 9)]
    moved = switches_during(calls)
    assert moved == 0, f"the GIL changed hands ({moved} ticks)"
    assert all(a.load() == 7 for a in ints)  # ((0 + 7 - 1) & 6) | 1


@pytest.mark.stress
@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_hammer_in_place_add_and_subtract_are_exact(cls: Any, bits: int, signed: bool, fast_switching: None) -> None:
    # Even threads `+= 3`, odd ones `-= 1`: a load-then-store would lose updates.
    iters = 50_000 * STRESS
    a = cls(1000)

    def work(i: int) -> None:
        n = a
        for _ in range(iters):
            if i % 2 == 0:
                n += 3
            else:
                n -= 1

    run_threads(THREADS, work)
    assert a.load() == wrap(1000 + (THREADS // 2) * iters * 2, bits, signed)


@pytest.mark.stress
@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_hammer_in_place_or_and_never_touch_other_bits(cls: Any, bits: int, signed: bool, fast_switching: None) -> None:
    # Each thread owns one bit: sets it with |=, checks it, clears it with &=.
    # Only its owner clears a bit, so a set bit found clear was lost to
    # another thread's read-modify-write.
    iters = 20_000 * STRESS
    a = cls()
    lost: list[int] = []

    def work(i: int) -> None:
        n = a
        bit = 1 << (bits - 1 if i == 0 else i)
        for _ in range(iters):
            n |= bit
            if not n.load() & bit:
                lost.append(i)
            n &= ~bit

    run_threads(THREADS, work)
    assert lost == []
    assert a.load() == 0


# ---- Value -------------------------------------------------------------------------


def test_value_load_store_swap_cas() -> None:
    v: Value[str] = Value()
    assert v.load() is None
    v.store("a")
    assert v.load() == "a"
    assert v.swap("b") == "a"
    assert v.compare_and_swap("x", "c") is False and v.load() == "b"
    assert v.compare_and_swap("b", "c") is True and v.load() == "c"
    # Values are compared with ==, not identity: Go compares interface values.
    assert v.compare_and_swap("".join(["c"]), "d") is True
    assert v.swap("e") == "d"


def test_value_swap_and_cas_on_an_empty_value() -> None:
    v: Value[int] = Value()
    assert v.swap(1) is None and v.load() == 1
    w: Value[int] = Value()
    assert w.compare_and_swap(5, 1) is False and w.load() is None
    assert w.compare_and_swap(None, 1) is True and w.load() == 1
    assert w.compare_and_swap(None, 2) is False and w.load() == 1


GO_MESSAGES = [
    (lambda v: v.store(None), ValueError, "sync/atomic: store of nil value into Value"),
    (lambda v: v.store(1.5), TypeError, "sync/atomic: store of inconsistently typed value into Value"),
    (lambda v: v.swap(None), ValueError, "sync/atomic: swap of nil value into Value"),
    (lambda v: v.swap(b"x"), TypeError, "sync/atomic: swap of inconsistently typed value into Value"),
    (
        lambda v: v.compare_and_swap(1, None),
        ValueError,
        "sync/atomic: compare and swap of nil value into Value",
    ),
    (
        lambda v: v.compare_and_swap("1", 2),
        TypeError,
        "sync/atomic: compare and swap of inconsistently typed values",
    ),
    (
        lambda v: v.compare_and_swap(None, 2.0),
        TypeError,
        "sync/atomic: compare and swap of inconsistently typed value into Value",
    ),
    (
        lambda v: v.compare_and_swap(1.0, 2.0),
        TypeError,
        "sync/atomic: compare and swap of inconsistently typed value into Value",
    ),
]


@pytest.mark.parametrize("op, error, message", GO_MESSAGES)
def test_value_misuse_has_gos_message_and_changes_nothing(op: Any, error: type, message: str) -> None:
    v: Value[Any] = Value()
    v.store(1)
    with pytest.raises(error) as info:
        op(v)
    assert str(info.value) == message  # exactly Go's
    assert v.load() == 1 and type(v.load()) is int
    v.store(2)  # still usable
    assert v.load() == 2


def test_value_types_must_match_exactly() -> None:
    v: Value[Any] = Value()
    v.store(1)
    with pytest.raises(TypeError):
        v.store(True)  # a bool is an int, but not of the same type
    v2: Value[Any] = Value()
    v2.store(True)
    with pytest.raises(TypeError):
        v2.store(1)
    # CAS of a nil value, or of values of different types, is refused even
    # on an empty Value (Go checks before looking).
    e: Value[Any] = Value()
    with pytest.raises(ValueError):
        e.compare_and_swap(None, None)
    with pytest.raises(TypeError):
        e.compare_and_swap("a", 1)
    assert e.load() is None


def test_value_cas_compares_again_when_the_value_changes_meanwhile() -> None:
    # Go's CompareAndSwap compares with ==, then swaps only if the value is
    # still the one it compared. Here the comparison itself stores another
    # value: the swap must not overwrite it.
    v: Value[Any] = Value()

    class Key:
        def __init__(self, n: int, hook: bool = False) -> None:
            self.n, self.hook = n, hook

        def __eq__(self, other: object) -> bool:
            if self.hook:
                self.hook = False
                v.store(Key(99))  # a concurrent store, from inside the comparison
            return isinstance(other, Key) and other.n == self.n

        __hash__ = None  # type: ignore[assignment]

    v.store(Key(1, hook=True))
    assert v.compare_and_swap(Key(1), Key(2)) is False
    assert v.load().n == 99


@pypy_cannot(PYPY_GC)
def test_value_finalizer_of_replaced_value_may_use_the_value() -> None:
    # The replaced object is released after the internal lock is: its
    # finaliser can call the Value without deadlocking.
    v: Value[Any] = Value()
    seen: list[Any] = []

    class Obj:
        def __init__(self, hook: bool) -> None:
            self.hook = hook

        def __del__(self) -> None:
            if self.hook:
                seen.append(v.load())
                v.store(Obj(False))

    def run() -> None:
        v.store(Obj(True))
        v.store(Obj(False))  # replaces the hooked one
        v.store(Obj(True))
        assert v.compare_and_swap(v.load(), Obj(False))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "deadlock: a finaliser ran inside Value's lock"
    assert len(seen) == 2 and all(type(x) is Obj for x in seen)


# ---- no copies, repr ------------------------------------------------------------------


@pytest.mark.parametrize("make", [Int32, Uint32, Int64, Uint64, Bool, Value], ids=lambda c: c.__name__)
def test_not_copyable_or_picklable(make: Any) -> None:
    obj = make()
    with pytest.raises(TypeError):
        copy.copy(obj)
    with pytest.raises(TypeError):
        copy.deepcopy(obj)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(obj, protocol)


def test_repr_shows_the_current_value() -> None:
    a = Int64(-5)
    assert repr(a) == "<gosync.atomic.Int64 -5>"
    a.add(10)
    assert repr(a) == "<gosync.atomic.Int64 5>"
    assert repr(Uint64(2**64 - 1)) == f"<gosync.atomic.Uint64 {2**64 - 1}>"
    assert repr(Int32(3)) == "<gosync.atomic.Int32 3>"
    assert repr(Uint32(4)) == "<gosync.atomic.Uint32 4>"
    assert repr(Bool(True)) == "<gosync.atomic.Bool True>"
    v: Value[str] = Value()
    assert repr(v) == "<gosync.atomic.Value empty>"
    v.store("x")
    assert repr(v) == "<gosync.atomic.Value 'x'>"


# ---- the GIL policy: every atomic operation keeps it ----------------------------------


@pypy_cannot(PYPY_GIL)
def test_atomic_operations_keep_the_gil(fast_switching: None) -> None:
    # The probe of test_gil.py around 60000 atomic operations.
    ints = [cls() for cls, _, _ in INT_TYPES for _ in range(2000)]
    bools = [Bool() for _ in range(2000)]
    calls: list[Any] = []
    for a in ints:
        calls += [a.load, partial(a.add, 1), partial(a.store, 2), partial(a.swap, 3)]
        calls += [partial(a.compare_and_swap, 3, 4), partial(a.and_, 6), partial(a.or_, 1)]
    for b in bools:
        calls += [b.load, partial(b.store, True), partial(b.swap, False), partial(b.compare_and_swap, False, True)]
    moved = switches_during(calls)
    assert moved == 0, f"the GIL changed hands ({moved} ticks)"
    assert all(a.load() == 5 for a in ints)  # ((3 -> 4) & 6) | 1
    assert all(b.load() is True for b in bools)


# ---- hammer tests ----------------------------------------------------------------------

THREADS = 8  # more than the cores of the CI machines


@pytest.mark.stress
@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_hammer_add_is_exact_across_the_wrap(
    cls: Any, bits: int, signed: bool, fast_switching: None
) -> None:
    # Go's hammer tests: THREADS threads x 100,000 adds. Even threads add 3,
    # odd ones subtract 1 (for unsigned types, as the all-ones pattern minus
    # one, i.e. Go's ^uint(0)). Starting near the top of the range, the
    # total crosses the wrap-around point; the result must be exact.
    iters = 100_000 * STRESS
    lo, hi = bounds(bits, signed)
    start = hi - 1000
    a = cls(start)
    minus_one = -1 if signed else (1 << bits) - 1

    def work(i: int) -> None:
        add = a.add
        delta = 3 if i % 2 == 0 else minus_one
        for _ in range(iters):
            add(delta)

    run_threads(THREADS, work)
    total = (THREADS // 2) * iters * 3 - (THREADS // 2) * iters
    assert start + total > hi, "the test must cross the wrap-around point"
    assert a.load() == wrap(start + total, bits, signed)


@pytest.mark.stress
@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_hammer_and_or_return_exact_old_values(
    cls: Any, bits: int, signed: bool, fast_switching: None
) -> None:
    # Each thread owns one bit and flips it with or_ and and_, which return
    # the old value: the owner's bit in it must always be what the owner
    # last left there, and the other threads' bits must never be disturbed.
    # A non-atomic read-modify-write would lose other threads' flips.
    iters = 20_000 * STRESS
    a = cls()
    bad: list[str] = []
    top = bits - 1  # the sign bit for signed types

    def work(i: int) -> None:
        bit = 1 << (top if i == 0 else i)  # thread 0 uses the top bit
        for _ in range(iters):
            if a.or_(bit) & bit:
                bad.append(f"thread {i}: bit already set")
            if not a.and_(~bit) & bit:
                bad.append(f"thread {i}: bit lost")

    run_threads(THREADS, work)
    assert bad == []
    assert a.load() == 0


@pytest.mark.stress
@pytest.mark.parametrize("cls, bits, signed", INT_TYPES, ids=INT_IDS)
def test_compare_and_swap_chain_is_exact(
    cls: Any, bits: int, signed: bool, fast_switching: None
) -> None:
    # Every thread advances the counter only through compare_and_swap,
    # retrying on failure. Each success must be the only one for its old
    # value: the final value counts the successes exactly.
    iters = 10_000 * STRESS
    lo, hi = bounds(bits, signed)
    start = hi - 5 * iters  # crosses the wrap as well
    a = cls(start)
    wins = [0] * THREADS
    retries = [0] * THREADS

    def work(i: int) -> None:
        for k in range(iters):
            while True:
                old = a.load()
                if k % 64 == 0:
                    time.sleep(0)  # let the others move the counter meanwhile
                if a.compare_and_swap(old, wrap(old + 1, bits, signed)):
                    wins[i] += 1
                    break
                retries[i] += 1

    run_threads(THREADS, work)
    assert sum(wins) == THREADS * iters
    assert a.load() == wrap(start + THREADS * iters, bits, signed)
    assert sum(retries) > 0, "no compare_and_swap ever failed: the threads never raced"


@pytest.mark.stress
@pytest.mark.parametrize("cls, signed", [(Int64, True), (Uint64, False)], ids=["Int64", "Uint64"])
def test_64_bit_values_are_never_torn(cls: Any, signed: bool, fast_switching: None) -> None:
    # Writers store values whose two 32-bit halves are equal; readers (load,
    # and the old values of swap) must never see halves that differ.
    iters = 50_000 * STRESS
    a = cls(0)
    torn: list[int] = []

    def value(k: int) -> int:
        k &= 0xFFFFFFFF
        return wrap(k << 32 | k, 64, signed)

    def check(v: int) -> None:
        u = v & 0xFFFFFFFFFFFFFFFF
        if u >> 32 != u & 0xFFFFFFFF:
            torn.append(v)

    def work(i: int) -> None:
        if i % 2 == 0:
            for k in range(iters):
                a.store(value(0xFFFFFFFF - k * 7919 - i))
                check(a.swap(value(k * 104729 + i)))
        else:
            for _ in range(iters):
                check(a.load())

    run_threads(THREADS, work)
    assert torn == []
    check(a.load())
    assert torn == []


@pytest.mark.stress
def test_bool_as_a_spinlock_gives_mutual_exclusion(fast_switching: None) -> None:
    # A lock made of a Bool: even threads enter with compare_and_swap(False,
    # True), odd ones with swap(True) returning False (test-and-set); all
    # leave with store(False). The non-atomic count it guards must be exact,
    # and no thread may find another inside.
    iters = 10_000 * STRESS
    flag = Bool()
    count = Guarded()
    spins = [0] * THREADS

    def work(i: int) -> None:
        enter = partial(flag.compare_and_swap, False, True) if i % 2 == 0 else (lambda: not flag.swap(True))
        for _ in range(iters):
            while not enter():
                spins[i] += 1
                time.sleep(0)
            count.bump()
            flag.store(False)

    run_threads(THREADS, work)
    assert count.overlaps == 0
    assert count.n == THREADS * iters
    assert flag.load() is False
    assert sum(spins) > 0, "nobody ever found the flag taken: the threads never raced"


@pytest.mark.stress
def test_value_swaps_conserve_every_value(fast_switching: None) -> None:
    # Each thread swaps in its own distinct values. Every value must come out
    # exactly once: as the result of some swap, or as the final value.
    iters = 5_000 * STRESS
    v: Value[int] = Value()
    v.store(-1)
    out: list[list[int]] = [[] for _ in range(THREADS)]

    def work(i: int) -> None:
        mine = out[i]
        for k in range(iters):
            mine.append(v.swap(i * iters + k))  # type: ignore[arg-type]

    run_threads(THREADS, work)
    seen = sorted([x for o in out for x in o] + [v.load()])  # type: ignore[list-item]
    assert seen == [-1, *range(THREADS * iters)]


@pytest.mark.stress
def test_value_compare_and_swap_counter_is_exact(fast_switching: None) -> None:
    iters = 3_000 * STRESS
    v: Value[int] = Value()
    v.store(0)

    def work(i: int) -> None:
        for _ in range(iters):
            while True:
                cur = v.load()
                assert cur is not None
                if v.compare_and_swap(cur, cur + 1):
                    break

    run_threads(THREADS, work)
    assert v.load() == THREADS * iters
