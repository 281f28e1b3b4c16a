"""gosync.atomic: Go's sync/atomic types.

Int32, Uint32, Int64, Uint64 and Bool hold their value in C memory and
change it with one hardware atomic instruction per operation, sequentially
consistent as in Go, with no lock. Each is a type defined in C, with C
methods for its operations; the classes written here add the constructor,
repr and the no-copy rule (written once in _Atomic) to it.

In Python's protocols an atomic stands for the value it holds at that
instant, read once: `if stopping:` reads a Bool, `int(n)`, `range(n)`,
`n < limit` and `n == 3` read an Int64. Comparisons are by value, with
numbers and with other atomics. The in-place operators of the integer types
are single atomic operations that keep the name bound to the same atomic:
`n += d` is n.add(d), `n -= d` adds -d, `n &= m` is n.and_(m) and `n |= m`
is n.or_(m). There is no `n + d`: an expression that made a plain int would
read like an atomic update and not be one. The atomics are unhashable,
since their value changes.

Arguments follow Python's subtyping: a bool is an int, so Int64(True) holds
1 as Int64(1) does; an int is not a bool, so Bool(1) raises TypeError, as
every Bool method does for anything but True and False (accepting any
truthy object would hide a wrong argument).

Value holds any Python object, with Go's rules: None cannot be stored, and
every value stored must have the type of the first one.

None of these types may be copied or pickled: a copy would not share the
value with the original, so copy.copy, copy.deepcopy and pickle raise
TypeError.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ._mixin import name_after
from ._native import BoolBase, Int32Base, Int64Base, Uint32Base, Uint64Base
from ._nocopy import WEAKREF_SLOT, NoCopy, no_copy
from ._public import public
from .mutex import Mutex

__all__ = ["Bool", "Int32", "Int64", "Uint32", "Uint64", "Value"]

T = TypeVar("T")


class _Word(Protocol):
    """What _Atomic needs of the C type it is mixed into, and its own name."""

    _repr_name: ClassVar[str]

    def load(self) -> Any: ...

    def store(self, value: Any, /) -> None: ...


class _Atomic(NoCopy):
    """The constructor, repr and no-copy rule of the atomic types whose word
    is in C. It comes after the C type among a class's bases (PyPy lays
    out an instance wrongly when a Python class precedes the C base); the C
    type has the operations and no __init__ or __repr__ of its own.
    """

    __slots__ = ()

    # The name in the repr: the gosync class's, also for a user's subclass.
    _repr_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            cls._repr_name = f"gosync.atomic.{cls.__name__}"
        name_after(cls, _Atomic, ("__init__",))

    def __init__(self: _Word, value: int = 0) -> None:
        self.store(value)

    def __repr__(self: _Word) -> str:
        return f"<{type(self)._repr_name} {self.load()}>"


@public
class Int32(Int32Base, _Atomic):
    """An Int32 is an atomic int32: -2**31 to 2**31 - 1.

    Int32(value=0) creates one holding value. Its methods are load, store,
    swap, compare_and_swap, add (which returns the new value and wraps around
    like Go's), and_ and or_ (which return the old value). A value outside
    the range raises OverflowError and a non-int TypeError; nothing is
    stored then. The operand of add, and_ and or_ is taken modulo 2**32 and
    may lie anywhere from -2**32 to 2**32 - 1, so that masks can be written
    as unsigned bit patterns too. See each method's docstring.
    """

    __slots__ = ()


@public
class Uint32(Uint32Base, _Atomic):
    """A Uint32 is an atomic uint32: 0 to 2**32 - 1.

    Uint32(value=0) creates one holding value; the methods are Int32's. As
    for every type here, the operand of add, and_ and or_ is taken modulo
    2**32, so it may be negative: add(-1) subtracts one, and_(~flag) clears
    a flag.
    """

    __slots__ = ()


@public
class Int64(Int64Base, _Atomic):
    """An Int64 is an atomic int64: -2**63 to 2**63 - 1.

    Int64(value=0) creates one holding value; the methods are Int32's, on 64
    bits. All 64 bits change in one operation: a load never sees half of a
    store.
    """

    __slots__ = ()


@public
class Uint64(Uint64Base, _Atomic):
    """A Uint64 is an atomic uint64: 0 to 2**64 - 1.

    Uint64(value=0) creates one holding value; the methods are Int32's, on 64
    bits, and as for Uint32 the operand of add, and_ and or_ may be negative
    (it is taken modulo 2**64).
    """

    __slots__ = ()


@public
class Bool(BoolBase, _Atomic):
    """A Bool is an atomic boolean.

    Bool(value=False) creates one holding value. Its methods are load, store,
    swap and compare_and_swap; they take True or False only, and anything
    else raises TypeError without storing.
    """

    __slots__ = ()

    def __init__(self, value: bool = False) -> None:
        self.store(value)


_STORE_NIL = "sync/atomic: store of nil value into Value"
_STORE_TYPE = "sync/atomic: store of inconsistently typed value into Value"
_SWAP_NIL = "sync/atomic: swap of nil value into Value"
_SWAP_TYPE = "sync/atomic: swap of inconsistently typed value into Value"
_CAS_NIL = "sync/atomic: compare and swap of nil value into Value"
_CAS_TYPES = "sync/atomic: compare and swap of inconsistently typed values"
_CAS_TYPE = "sync/atomic: compare and swap of inconsistently typed value into Value"


@no_copy
class Value(Generic[T]):
    """A Value provides an atomic load and store of a consistently typed value.

    A new Value is empty: load returns None until the first store. Storing
    None raises ValueError, and storing a value whose type is not exactly the
    first value's type raises TypeError, with Go's messages; nothing is
    stored then. A Value must not be copied or pickled.

    load takes no lock. store, swap and compare_and_swap serialise on an
    internal Mutex, never held while other code runs (compare_and_swap
    compares with == before taking it), so a Value is correct without the
    GIL too.
    """

    __slots__ = ("_mu", "_v") + WEAKREF_SLOT

    def __init__(self) -> None:
        self._mu = Mutex()
        # The current value, or None while empty. Read without the lock: a
        # single attribute read is atomic on every CPython build.
        self._v: T | None = None

    def load(self) -> T | None:
        """Load returns the value set by the most recent store.

        It returns None if there has been no store to this Value.
        """
        return self._v

    def store(self, val: T) -> None:
        """Store sets the value of the Value to val.

        All calls to store for a given Value must use values of the same
        type: another type raises TypeError, and None raises ValueError.
        """
        if val is None:
            raise ValueError(_STORE_NIL)
        with self._mu:
            # `old` keeps the replaced object alive until the lock is
            # released, so that its finaliser cannot run inside it.
            old = self._v
            if old is not None and type(old) is not type(val):
                raise TypeError(_STORE_TYPE)
            self._v = val
        del old

    def swap(self, new: T) -> T | None:
        """Swap stores new into the Value and returns the previous value.

        It returns None if the Value was empty. As for store, new must not be
        None (ValueError) and must have the first value's type (TypeError).
        """
        if new is None:
            raise ValueError(_SWAP_NIL)
        with self._mu:
            old = self._v
            if old is not None and type(old) is not type(new):
                raise TypeError(_SWAP_TYPE)
            self._v = new
        return old

    def compare_and_swap(self, old: T | None, new: T) -> bool:
        """CompareAndSwap executes the compare-and-swap operation for the Value.

        If the current value == old, it becomes new and the result is True.
        old=None matches an empty Value only. As in Go, new must not be None
        (ValueError), a non-None old must have new's type, and new must have
        the stored value's type (TypeError otherwise).

        The comparison runs without the lock, so old's __eq__ may do anything;
        if the value changes meanwhile, the comparison is made again with the
        new current value.
        """
        if new is None:
            raise ValueError(_CAS_NIL)
        if old is not None and type(old) is not type(new):
            raise TypeError(_CAS_TYPES)
        mu = self._mu
        while True:
            cur = self._v
            if cur is None:
                if old is not None:
                    return False
            else:
                if type(cur) is not type(new):
                    raise TypeError(_CAS_TYPE)
                if not (cur == old):
                    return False
            with mu:
                # The value is still the one compared, so the CAS succeeds.
                if self._v is cur:
                    self._v = new
                    return True
            # It changed in between: compare against the new value.

    def __repr__(self) -> str:
        v = self._v
        return "<gosync.atomic.Value empty>" if v is None else f"<gosync.atomic.Value {v!r}>"
