"""Placed: what every primitive of gosync.shared shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Tuple, TypeVar

from .._native import Mapping
from ._handle import attach
from ._layout import CLASSES, SLOT_HEADER

if TYPE_CHECKING:
    from ._arena import Arena

__all__ = ["Placed", "PlacedBase", "placed"]

P = TypeVar("P", bound="Placed")
C = TypeVar("C", bound=type)


class Placed:
    """Placed is what every primitive of gosync.shared shares: where its
    state is (an arena and a slot offset), how it is made there, and its
    pickling to a handle (locator, arena id, slot, kind), which maps the
    arena once per process on unpickling.

    A class using it declares the slots "_arena" and "_slot" and its kind,
    and gets Placed's methods from the decorator placed, with PlacedBase
    among its bases: Placed for type checkers, object at run time (help()
    shows a class's bases, and Placed's name is private).
    """

    __slots__ = ()

    _kind: ClassVar[int] = 0
    _arena: Arena
    _slot: int

    @classmethod
    def _state_size(cls) -> int:
        """The bytes of C state of one, from the binding."""
        return Mapping.state_size(cls)

    @classmethod
    def _place(cls: type[P], arena: Arena, slot: int, fresh: bool) -> P:
        """_place returns the primitive whose slot is at slot in arena.
        fresh: the slot was just allocated and nobody else sees it yet."""
        return place_at(cls, arena, slot, fresh)

    @classmethod
    def _make(cls: type[P], arena: Arena) -> P:
        """_make returns a new one in arena (subclasses add arguments)."""
        return arena._new(cls)

    def _profile_parts(self) -> Tuple[Any, ...]:
        """The objects whose waits are this primitive's in the contention
        profiles: itself, if it is one that can block; a class made of
        others (a Chan) lists them."""
        return (self,) if hasattr(type(self), "_profile_label") else ()

    def _closed_repr(self) -> str | None:
        """The repr of one whose arena is closed, or None while open."""
        # An arena's directory lock and a shared Chan's or Once's mutex are
        # made without a handle (no _arena): they are never closed alone.
        arena = getattr(self, "_arena", None)
        if arena is not None and arena._mapping.closed:
            where = "gosync.shared.atomic" if type(self).__module__.endswith(".atomic") else "gosync.shared"
            return f"<{where}.{type(self).__name__} of a closed arena>"
        return None

    @property
    def arena(self) -> Arena:
        """The Arena that holds this primitive."""
        return self._arena

    def __reduce__(self) -> tuple[Any, ...]:
        a = getattr(self, "_arena", None)
        if a is None:
            raise TypeError(f"cannot pickle an internal gosync.shared.{type(self).__name__}: it has no handle")
        a._check_open()
        return (attach, (a._locator(), a._id, self._slot, self._kind))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()

    def __copy__(self: P) -> P:
        # A copy would be the same state: the handle says where it is.
        return self

    def __deepcopy__(self: P, memo: Any) -> P:
        return self


if TYPE_CHECKING:
    PlacedBase = Placed
else:
    PlacedBase = object

# Placed's attributes that a class gets even where a base of it defines the
# name: its pickling to a handle wins over the in-process class's refusals.
_PICKLING = ("__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__")
_MACHINERY = ("__module__", "__qualname__", "__doc__", "__slots__", "__annotations__", "__dict__", "__weakref__")


def placed(cls: C) -> C:
    """placed gives cls, a class of gosync.shared with PlacedBase last among
    its bases, Placed's attributes as its own, drops that object base, and
    registers the class under its kind for unpickling. (The lock types,
    which are their C types, have Placed among their mixins instead, which
    gosync._public.public folds in; placed then only registers them.)

    Resolution is the MRO's, had Placed been the last base: cls's own
    attributes and its other bases' win, except that the pickling methods
    win over the bases' (the in-process classes refuse pickling).
    """
    for name, value in vars(Placed).items():
        if name in _MACHINERY or name in vars(cls):
            continue
        if name in _PICKLING or not any(name in vars(b) for b in cls.__mro__[1:-1]):
            setattr(cls, name, value)
    if len(cls.__bases__) > 1 and cls.__bases__[-1] is object:
        cls.__bases__ = cls.__bases__[:-1]
    kind: int = getattr(cls, "_kind", 0)
    if kind:
        CLASSES.setdefault(kind, cls)
    return cls


def place_at(cls: type[P], arena: Arena, slot: int, fresh: bool) -> P:
    """place_at is Placed._place: the primitive of class cls whose slot is
    at slot in arena. fresh: the slot was just allocated and nobody else
    sees it yet."""
    obj: P = arena._mapping.at(cls, slot + SLOT_HEADER, fresh)
    obj._arena = arena
    obj._slot = slot
    return obj

