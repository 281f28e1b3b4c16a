"""Cond: Go's sync.Cond in shared memory."""

from __future__ import annotations

from typing import Any, TypeVar, Union

from .. import cond as _inprocess
from ._arena import Arena
from ._default import place
from ._layout import CLASSES
from ._named import check_name, profile_name
from ._placed import PlacedBase, place_at, placed
from .mutex import Mutex
from .rwmutex import RWMutex

__all__ = ["Cond"]

C = TypeVar("C", bound="Cond")
SharedLock = Union[Mutex, RWMutex]

_SLOT_MASK = (1 << 56) - 1


@placed
class Cond(_inprocess.Cond, PlacedBase):
    """Cond is a condition variable shared by processes, with gosync.Cond's
    API: wait(timeout), signal, broadcast, and L.

    L is a gosync.shared Mutex or RWMutex (its write lock); Cond(None) or
    Cond() makes a new shared Mutex for it. The Cond lives in L's arena,
    and pickles to a handle that brings L along. wait unlocks L, sleeps
    until signal or broadcast (from any process), and locks L again through
    L's own lock(): if L's owner died meanwhile, wait raises OwnerDied with
    L held.

    A waiter whose process dies in wait may absorb one signal meant for
    another (broadcast still wakes every waiter); a wait with a timeout
    always returns. As with gosync.Cond over a lock that is not gosync's
    own, a KeyboardInterrupt that arrives while wait locks L again
    propagates with L not held.
    """

    __slots__ = ("_arena", "_slot")
    _kind = 4

    def __new__(cls, L: SharedLock | None = None, *, name: str | None = None) -> Cond:
        check_name(cls, name)
        if L is None:
            # The Mutex made for it is named after it too: its waits are the Cond's.
            obj = profile_name(place(lambda arena: cls._make(arena, None)), name)
            profile_name(obj.L, name)
            return obj
        return profile_name(cls._make(_lock_arena(L), L), name)

    def __init__(self, L: SharedLock | None = None, *, name: str | None = None) -> None:
        # Set up by _place, which every way of making one goes through.
        pass

    @classmethod
    def _make(cls: type[C], arena: Arena, L: Any = None) -> C:
        if L is None:
            L = Mutex._make(arena)
        elif _lock_arena(L) is not arena:
            raise ValueError("a shared Cond's L must be in the Cond's arena")
        return arena._new(cls, L._slot | L._kind << 56)

    @classmethod
    def _place(cls: type[C], arena: Arena, slot: int, fresh: bool) -> C:
        obj: C = place_at(cls, arena, slot, fresh)
        extra = arena._extra(slot)
        lock_cls = CLASSES.get(extra >> 56)
        if lock_cls is not Mutex and lock_cls is not RWMutex:
            raise ValueError(f"offset {slot} holds a Cond without a lock")
        L = arena._attach(extra & _SLOT_MASK, lock_cls)
        _inprocess.Cond.__init__(obj, L)
        return obj

    def __repr__(self) -> str:
        closed = self._closed_repr()
        if closed:
            return closed
        s = self._debug_state()
        return f"<gosync.shared.Cond waiters={s.waiters}>"


def _lock_arena(L: object) -> Arena:
    if not isinstance(L, (Mutex, RWMutex)):
        raise TypeError(f"a shared Cond's L must be a gosync.shared Mutex or RWMutex, not {type(L).__name__}")
    return L._arena
