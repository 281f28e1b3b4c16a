"""gosync.shared.atomic: Go's sync/atomic integers and Bool in shared
memory.

Int32, Uint32, Int64, Uint64 and Bool have the API of gosync.atomic's
(load, store, swap, compare_and_swap, add, and_, or_), one hardware atomic
instruction each, sequentially consistent across every process that maps
the arena. Int32(value) allocates from this process's default arena;
arena.Int32(value) from a given one. They pickle to a handle, so that
other processes use the same word.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from .. import atomic as _inprocess
from ._arena import Arena
from ._default import place
from ._placed import PlacedBase, placed

__all__ = ["Bool", "Int32", "Int64", "Uint32", "Uint64"]

A = TypeVar("A", "Int32", "Uint32", "Int64", "Uint64")


def _make(cls: type[A], arena: Arena, value: int) -> A:
    obj = arena._new(cls)
    obj.store(value)
    return obj


@placed
class Int32(_inprocess.Int32, PlacedBase):
    """An Int32 is an atomic int32 in shared memory: gosync.atomic.Int32's
    API, across processes."""

    __slots__ = ("_arena", "_slot")
    _kind = 6
    _repr_name: ClassVar[str] = "gosync.shared.atomic.Int32"

    def __repr__(self) -> str:
        return self._closed_repr() or super().__repr__()

    def __new__(cls, value: int = 0) -> Int32:
        return place(lambda arena: cls._make(arena, value))

    @classmethod
    def _make(cls, arena: Arena, value: int = 0) -> Int32:
        return _make(cls, arena, value)


@placed
class Uint32(_inprocess.Uint32, PlacedBase):
    """A Uint32 is an atomic uint32 in shared memory: gosync.atomic.Uint32's
    API, across processes."""

    __slots__ = ("_arena", "_slot")
    _kind = 7
    _repr_name: ClassVar[str] = "gosync.shared.atomic.Uint32"

    def __repr__(self) -> str:
        return self._closed_repr() or super().__repr__()

    def __new__(cls, value: int = 0) -> Uint32:
        return place(lambda arena: cls._make(arena, value))

    @classmethod
    def _make(cls, arena: Arena, value: int = 0) -> Uint32:
        return _make(cls, arena, value)


@placed
class Int64(_inprocess.Int64, PlacedBase):
    """An Int64 is an atomic int64 in shared memory: gosync.atomic.Int64's
    API, across processes."""

    __slots__ = ("_arena", "_slot")
    _kind = 8
    _repr_name: ClassVar[str] = "gosync.shared.atomic.Int64"

    def __repr__(self) -> str:
        return self._closed_repr() or super().__repr__()

    def __new__(cls, value: int = 0) -> Int64:
        return place(lambda arena: cls._make(arena, value))

    @classmethod
    def _make(cls, arena: Arena, value: int = 0) -> Int64:
        return _make(cls, arena, value)


@placed
class Uint64(_inprocess.Uint64, PlacedBase):
    """A Uint64 is an atomic uint64 in shared memory: gosync.atomic.Uint64's
    API, across processes."""

    __slots__ = ("_arena", "_slot")
    _kind = 9
    _repr_name: ClassVar[str] = "gosync.shared.atomic.Uint64"

    def __repr__(self) -> str:
        return self._closed_repr() or super().__repr__()

    def __new__(cls, value: int = 0) -> Uint64:
        return place(lambda arena: cls._make(arena, value))

    @classmethod
    def _make(cls, arena: Arena, value: int = 0) -> Uint64:
        return _make(cls, arena, value)


@placed
class Bool(_inprocess.Bool, PlacedBase):
    """A Bool is an atomic boolean in shared memory: gosync.atomic.Bool's
    API, across processes."""

    __slots__ = ("_arena", "_slot")
    _kind = 10
    _repr_name: ClassVar[str] = "gosync.shared.atomic.Bool"

    def __repr__(self) -> str:
        return self._closed_repr() or super().__repr__()

    def __new__(cls, value: bool = False) -> Bool:
        return place(lambda arena: cls._make(arena, value))

    @classmethod
    def _make(cls, arena: Arena, value: bool = False) -> Bool:
        obj = arena._new(cls)
        obj.store(value)
        return obj
