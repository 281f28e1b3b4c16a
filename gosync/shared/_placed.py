"""Placed: what every primitive of gosync.shared shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .._native import Mapping
from ._handle import attach
from ._layout import CLASSES, SLOT_HEADER

if TYPE_CHECKING:
    from ._arena import Arena

__all__ = ["Placed"]

P = TypeVar("P", bound="Placed")


class Placed:
    """Placed is what every primitive of gosync.shared shares: where its
    state is (an arena and a slot offset), how it is made there, and its
    pickling to a handle (locator, arena id, slot, kind), which maps the
    arena once per process on unpickling.

    A class using it declares the slots "_arena" and "_slot" and its kind.
    """

    __slots__ = ()

    _kind: ClassVar[int] = 0
    _arena: Arena
    _slot: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._kind and cls.__module__.startswith("gosync.shared."):
            CLASSES.setdefault(cls._kind, cls)

    @classmethod
    def _state_size(cls) -> int:
        """The bytes of C state of one, from the binding."""
        return Mapping.state_size(cls)

    @classmethod
    def _place(cls: type[P], arena: Arena, slot: int, fresh: bool) -> P:
        """_place returns the primitive whose slot is at slot in arena.
        fresh: the slot was just allocated and nobody else sees it yet."""
        obj: P = arena._mapping.at(cls, slot + SLOT_HEADER, fresh)
        obj._arena = arena
        obj._slot = slot
        return obj

    @classmethod
    def _make(cls: type[P], arena: Arena) -> P:
        """_make returns a new one in arena (subclasses add arguments)."""
        return arena._new(cls)

    def _closed_repr(self) -> str | None:
        """The repr of one whose arena is closed, or None while open."""
        if self._arena._mapping.closed:
            where = "gosync.shared.atomic" if type(self).__module__.endswith(".atomic") else "gosync.shared"
            return f"<{where}.{type(self).__name__} of a closed arena>"
        return None

    @property
    def arena(self) -> Arena:
        """The Arena that holds this primitive."""
        return self._arena

    def __reduce__(self) -> tuple[Any, ...]:
        a = self._arena
        a._check_open()
        return (attach, (a._locator(), a._id, self._slot, self._kind))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()

    def __copy__(self: P) -> P:
        # A copy would be the same state: the handle says where it is.
        return self

    def __deepcopy__(self: P, memo: Any) -> P:
        return self

